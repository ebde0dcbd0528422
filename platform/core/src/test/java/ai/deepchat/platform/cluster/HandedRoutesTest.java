package ai.deepchat.platform.cluster;

import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the node selector is handed: never a node that left while it is not a member again, at once
 * when it leaves (without a read of the map), and again once it is back. The selector here records
 * what it is given, as Vert.x's would hold it.
 */
class HandedRoutesTest {

  private static final RegistrationInfo A = new RegistrationInfo("node-a", 1, false);
  private static final RegistrationInfo B = new RegistrationInfo("node-b", 1, false);
  private static final RegistrationInfo C = new RegistrationInfo("node-c", 1, false);

  private final Map<String, List<RegistrationInfo>> held = new HashMap<>();
  private final Set<String> gone = new HashSet<>();
  private final HandedRoutes routes = new HandedRoutes(new RegistrationListener() {
    @Override
    public void registrationsUpdated(RegistrationUpdateEvent event) {
      held.put(event.address(), event.registrations());
    }

    @Override
    public void registrationsLost() {
    }

    @Override
    public boolean wantsUpdatesFor(String address) {
      return held.containsKey(address);
    }
  }, gone::contains);

  @Test
  void aNodeThatLeftIsDroppedFromTheRoutesNamingItAndLeftOutUntilItIsBack() {
    held.put("x", List.of());
    held.put("y", List.of());
    routes.registrationsUpdated(new RegistrationUpdateEvent("x", List.of(A, C)));
    routes.registrationsUpdated(new RegistrationUpdateEvent("y", List.of(B)));

    gone.add("node-c");
    assertThat(routes.dropNode("node-c")).as("routes that named c").isEqualTo(1);
    assertThat(held.get("x")).containsExactly(A);
    assertThat(held.get("y")).containsExactly(B);

    // the map still names c (its cleanup is stuck): neither an entry event nor a read brings it back
    routes.registrationsUpdated(new RegistrationUpdateEvent("x", List.of(A, B, C)));
    assertThat(held.get("x")).containsExactly(A, B);
    assertThat(routes.live(List.of(B, C))).containsExactly(B);
    assertThat(routes.holds("x", List.of(A, B, C))).as("compared without c: nothing to hand over").isTrue();

    gone.remove("node-c"); // a member again, after a merge
    routes.registrationsUpdated(new RegistrationUpdateEvent("x", List.of(A, B, C)));
    assertThat(held.get("x")).containsExactly(A, B, C);
  }
}
