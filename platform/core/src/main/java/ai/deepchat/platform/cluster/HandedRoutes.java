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
import java.util.function.Predicate;

/**
 * Vert.x's node selector, remembering the subscribers it was last handed for each address, so that
 * the node can tell from the cluster map which of its cached routes missed an update: Vert.x keeps a
 * route until the next Hazelcast entry event for that address, and never re-reads it on its own.
 * Handing over is cheap and thread-safe in Vert.x (a queued update per address); here it is
 * serialized with the record, so the record is what the selector last got (not inside the map's
 * compute: the selector may run callbacks of pending sends as it takes the update).
 *
 * <p>Routes never name a node that left the cluster ({@code gone}), whatever the map still says: the
 * map loses a departed node's subscriptions only when a member's cleanup gets through, and after the
 * master is lost that cleanup (a scan of every partition) can wait 20 s and more for the partition
 * table to settle, while every read and entry event hands the selector the departed node again.
 */
final class HandedRoutes implements RegistrationListener {

  private final RegistrationListener selector;
  private final Predicate<String> gone;
  private final Map<String, Set<RegistrationInfo>> handed = new ConcurrentHashMap<>();

  /** {@code gone}: whether a node id is one that left the cluster and is not a member again. */
  HandedRoutes(RegistrationListener selector, Predicate<String> gone) {
    this.selector = selector;
    this.gone = gone;
  }

  @Override
  public synchronized void registrationsUpdated(RegistrationUpdateEvent event) {
    List<RegistrationInfo> live = live(event.registrations());
    boolean held = selector.wantsUpdatesFor(event.address()); // Vert.x ignores an update of a route it does not hold
    selector.registrationsUpdated(live.size() == event.registrations().size()
        ? event : new RegistrationUpdateEvent(event.address(), live));
    if (!held || live.isEmpty()) {
      handed.remove(event.address()); // the selector reads the map afresh when it next sends there
    } else {
      handed.put(event.address(), new HashSet<>(live));
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

  /** {@code registrations} without those of nodes that left the cluster. */
  List<RegistrationInfo> live(List<RegistrationInfo> registrations) {
    if (registrations.stream().noneMatch(r -> gone.test(r.nodeId()))) {
      return registrations;
    }
    return registrations.stream().filter(r -> !gone.test(r.nodeId())).toList();
  }

  /**
   * {@code nodeId} left the cluster: hands each route that names it the same route without it, at
   * once and without reading the cluster map (whose cleanup may be stuck); returns how many.
   */
  synchronized int dropNode(String nodeId) {
    int dropped = 0;
    for (Map.Entry<String, Set<RegistrationInfo>> route : Map.copyOf(handed).entrySet()) {
      if (route.getValue().stream().anyMatch(r -> r.nodeId().equals(nodeId))) {
        registrationsUpdated(new RegistrationUpdateEvent(route.getKey(),
            route.getValue().stream().filter(r -> !r.nodeId().equals(nodeId)).toList()));
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * The selector read {@code found} (departed nodes already left out) for {@code address} from the
   * cluster map itself (when it first sent there): what it holds, unless an update was handed to it
   * meanwhile, which is then newer.
   */
  synchronized void read(String address, List<RegistrationInfo> found) {
    if (!found.isEmpty()) {
      handed.putIfAbsent(address, new HashSet<>(found));
    }
  }

  /**
   * Whether the selector holds exactly {@code current} (less departed nodes) for {@code address}, as
   * far as this knows; false when nothing is known (a hand-over then repeats what it has at worst).
   */
  boolean holds(String address, List<RegistrationInfo> current) {
    return Objects.equals(handed.get(address), new HashSet<>(live(current)));
  }
}
