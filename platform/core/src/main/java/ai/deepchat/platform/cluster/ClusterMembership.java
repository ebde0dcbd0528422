package ai.deepchat.platform.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.UUID;
import java.util.function.Consumer;

/**
 * Which Vert.x node this is, and which nodes leave the cluster. The event bus is best-effort: a
 * request to a node that died waits for its timeout, and a stream from it just stops. Hazelcast
 * membership tells us sooner, so callers that wait on a node watch it here.
 *
 * <p>Vert.x's own {@code ClusterManager.nodeListener} has room for one listener (its HA manager), so
 * this adds a Hazelcast membership listener of its own.
 */
public final class ClusterMembership {

  /** The node id of a Vert.x instance that is not clustered. */
  public static final String LOCAL = "local";

  /** The member attribute in which vertx-hazelcast keeps the Vert.x node id. */
  static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  private ClusterMembership() {
  }

  /** This instance's Vert.x node id (as event-bus routing knows it), or {@link #LOCAL}. */
  public static String localNodeId(Vertx vertx) {
    ClusterManager manager = clusterManager(vertx);
    return manager != null ? manager.getNodeId() : LOCAL;
  }

  /**
   * Calls {@code onLeft} with the node id of every node that leaves the cluster, on the caller's
   * context. Not clustered: never called. Close the result to stop listening.
   */
  public static AutoCloseable onNodeLeft(Vertx vertx, Consumer<String> onLeft) {
    return onMembership(vertx, onLeft, nodeId -> { });
  }

  /**
   * Calls {@code onLeft} / {@code onJoined} with the node id of every node that leaves / joins the
   * cluster, on the caller's context. A node dropped in a network partition or a long pause joins
   * again with the same node id when the cluster merges. Not clustered: never called. Close the
   * result to stop listening.
   */
  public static AutoCloseable onMembership(Vertx vertx, Consumer<String> onLeft, Consumer<String> onJoined) {
    HazelcastInstance hazelcast = hazelcast(vertx);
    if (hazelcast == null) {
      return () -> { };
    }
    Context context = vertx.getOrCreateContext();
    UUID registration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        String nodeId = event.getMember().getAttribute(NODE_ID_ATTRIBUTE);
        if (nodeId != null) {
          context.runOnContext(v -> onJoined.accept(nodeId));
        }
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        String nodeId = event.getMember().getAttribute(NODE_ID_ATTRIBUTE);
        if (nodeId != null) {
          context.runOnContext(v -> onLeft.accept(nodeId));
        }
      }
    });
    return () -> {
      if (hazelcast.getLifecycleService().isRunning()) {
        hazelcast.getCluster().removeMembershipListener(registration);
      }
    };
  }

  /**
   * The cluster manager of a clustered Vert.x instance, else null. The one use of
   * {@code io.vertx.core.internal} for it: Vert.x's public API tells whether an instance is clustered
   * but does not hand out its cluster manager (node id, registrations, the Hazelcast instance).
   */
  public static ClusterManager clusterManager(Vertx vertx) {
    return vertx.isClustered() && vertx instanceof VertxInternal internal ? internal.clusterManager() : null;
  }

  /** The Hazelcast instance of a Vert.x instance clustered with Hazelcast, else null. */
  public static HazelcastInstance hazelcast(Vertx vertx) {
    return clusterManager(vertx) instanceof HazelcastClusterManager manager ? manager.getHazelcastInstance() : null;
  }
}
