package ai.deepchat.platform.cluster;

import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Vert.x's node selector, remembering the subscribers it was last handed for each address, so that
 * the node can tell from the cluster map which of its cached routes missed an update: Vert.x keeps a
 * route until the next Hazelcast entry event for that address, and never re-reads it on its own.
 * Handing over is cheap and thread-safe in Vert.x (a queued update per address); here it is
 * serialized with the record, so the record is what the selector last got (not inside the map's
 * compute: the selector may run callbacks of pending sends as it takes the update).
 */
final class HandedRoutes implements RegistrationListener {

  private final RegistrationListener selector;
  private final Map<String, Set<RegistrationInfo>> handed = new ConcurrentHashMap<>();

  HandedRoutes(RegistrationListener selector) {
    this.selector = selector;
  }

  @Override
  public synchronized void registrationsUpdated(RegistrationUpdateEvent event) {
    boolean held = selector.wantsUpdatesFor(event.address()); // Vert.x ignores an update of a route it does not hold
    selector.registrationsUpdated(event);
    if (!held || event.registrations().isEmpty()) {
      handed.remove(event.address()); // the selector reads the map afresh when it next sends there
    } else {
      handed.put(event.address(), new HashSet<>(event.registrations()));
    }
  }

  @Override
  public void registrationsLost() {
    selector.registrationsLost();
  }

  @Override
  public boolean wantsUpdatesFor(String address) {
    return selector.wantsUpdatesFor(address);
  }

  /**
   * The selector read {@code found} for {@code address} from the cluster map itself (when it first
   * sent there): what it holds, unless an update was handed to it meanwhile, which is then newer.
   */
  synchronized void read(String address, List<RegistrationInfo> found) {
    if (!found.isEmpty()) {
      handed.putIfAbsent(address, new HashSet<>(found));
    }
  }

  /**
   * Whether the selector holds exactly {@code current} for {@code address}, as far as this knows;
   * false when nothing is known (a hand-over then repeats what it has at worst).
   */
  boolean holds(String address, List<RegistrationInfo> current) {
    return Objects.equals(handed.get(address), new HashSet<>(current));
  }
}
