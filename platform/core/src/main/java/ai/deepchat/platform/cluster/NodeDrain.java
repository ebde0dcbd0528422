package ai.deepchat.platform.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

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

  /** Drains every participant at once; true when all finished their work within their deadlines. */
  public Future<Boolean> drainAll() {
    List<Future<Boolean>> drains = participants.stream().map(Participant::drain).toList();
    return Future.join(drains).transform(ar -> Future.succeededFuture(
        drains.stream().allMatch(f -> f.succeeded() && Boolean.TRUE.equals(f.result()))));
  }
}
