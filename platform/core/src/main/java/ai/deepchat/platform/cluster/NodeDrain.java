package ai.deepchat.platform.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The parts of one node that finish their work before the node leaves (SIGTERM): each stops taking
 * new work at once and lets what runs end within its own deadline. Verticles join at start and leave
 * at stop; the launcher drains all of them together, beside the gateway's drain, before it closes
 * Vert.x. One per Vert.x instance (found with {@link #of}).
 */
public final class NodeDrain implements Shareable {

  private static final String MAP = "deepchat.node";
  private static final String KEY = "drain";
  /**
   * How long peers get to see a withdrawn subscription: Hazelcast's entry event, Vert.x's 20 ms
   * throttle and a re-read of the address, with room for a busy machine.
   */
  public static final Duration HANDOVER = Duration.ofSeconds(2);

  /** One part of a node that drains. */
  @FunctionalInterface
  public interface Participant {
    /** Stops taking work now; completes when its work has ended (true) or was cut at its deadline (false). */
    Future<Boolean> drain();
  }

  private final Set<Participant> participants = ConcurrentHashMap.newKeySet();

  private NodeDrain() {
  }

  public static NodeDrain of(Vertx vertx) {
    return (NodeDrain) vertx.sharedData().getLocalMap(MAP).computeIfAbsent(KEY, k -> new NodeDrain());
  }

  public void join(Participant participant) {
    participants.add(participant);
  }

  public void leave(Participant participant) {
    participants.remove(participant);
  }

  public int size() {
    return participants.size();
  }

  /**
   * Takes this node out of the cluster's routing for {@code address} while its consumers keep
   * receiving, and completes once peers have had {@link #HANDOVER} to see it; then unregister the
   * consumers. Unregistering alone removes the local handler before the cluster entry, so a request a
   * peer routes by its not yet updated view in between is dropped without an answer (the sender
   * waits for its timeout). Uses the cluster manager's registrations: the public API has no way
   * to leave the routing and keep the handler. Not clustered: nothing to withdraw.
   */
  public static Future<Void> withdraw(Vertx vertx, String address) {
    ClusterManager cluster = ClusterMembership.clusterManager(vertx);
    if (cluster == null) {
      return Future.succeededFuture();
    }
    Promise<List<RegistrationInfo>> registered = Promise.promise();
    cluster.getRegistrations(address, registered);
    return registered.future()
        .compose(all -> Future.all(all.stream()
            .filter(r -> r.nodeId().equals(cluster.getNodeId()) && !r.localOnly())
            .map(r -> {
              Promise<Void> removed = Promise.promise();
              cluster.removeRegistration(address, r, removed);
              return removed.future();
            }).toList()))
        .compose(v -> vertx.timer(HANDOVER.toMillis()))
        .mapEmpty();
  }

  /** Drains every participant at once; true when all finished their work within their deadlines. */
  public Future<Boolean> drainAll() {
    List<Future<Boolean>> drains = participants.stream().map(Participant::drain).toList();
    return Future.join(drains).transform(ar -> Future.succeededFuture(
        drains.stream().allMatch(f -> f.succeeded() && Boolean.TRUE.equals(f.result()))));
  }
}
