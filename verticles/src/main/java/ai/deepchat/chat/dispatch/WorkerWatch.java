package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.cluster.ClusterMembership;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Tells running generations when the node of their engine worker leaves the cluster, so a dead
 * worker is noticed within Hazelcast's failure detection rather than the stream's idle timeout. One
 * per pipeline verticle, used on that verticle's context only.
 */
final class WorkerWatch implements AutoCloseable {

  /**
   * Nodes that left lately and have not joined again: a reply that arrives after its node's leave
   * event must still be caught. A node cut off by a network partition joins again, with the same
   * id, when the cluster merges.
   */
  private static final int REMEMBERED = 64;

  private final Map<String, List<Runnable>> watchers = new HashMap<>();
  private final LinkedHashSet<String> left = new LinkedHashSet<>();
  private final AutoCloseable membership;

  WorkerWatch(Vertx vertx) {
    membership = ClusterMembership.onMembership(vertx, this::nodeLeft, left::remove);
  }

  /** Runs {@code onLeft} once if {@code nodeId} leaves (at once if it has left); close to stop watching. */
  AutoCloseable watch(String nodeId, Runnable onLeft) {
    if (left.contains(nodeId)) {
      onLeft.run();
      return () -> { };
    }
    watchers.computeIfAbsent(nodeId, k -> new ArrayList<>()).add(onLeft);
    return () -> {
      List<Runnable> list = watchers.get(nodeId);
      if (list != null && list.remove(onLeft) && list.isEmpty()) {
        watchers.remove(nodeId);
      }
    };
  }

  private void nodeLeft(String nodeId) {
    left.add(nodeId);
    if (left.size() > REMEMBERED) {
      left.remove(left.iterator().next());
    }
    List<Runnable> list = watchers.remove(nodeId);
    if (list != null) {
      List.copyOf(list).forEach(Runnable::run);
    }
  }

  @Override
  public void close() throws Exception {
    membership.close();
  }
}
