package ai.deepchat.platform.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.function.IntSupplier;

/**
 * Whether this node is on the majority side of its cluster. Hazelcast favours availability: in a
 * network partition each side carries on as a cluster of its own, and the shared rate-limit buckets
 * then exist once per side, so each side would grant a tenant its whole quota. New chat turns need
 * those buckets, so a node that sees fewer than {@code quorum} members (itself included) refuses them
 * (503, readiness DOWN) until the partition heals; everything else (the console, answers already
 * streaming, health, metrics) goes on, since PostgreSQL holds the state and both sides reach it.
 *
 * <p>A node that has never seen the quorum counts as starting, not as cut off: the first node of a
 * new cluster serves before the others have joined. One per Vert.x instance ({@link #install}).
 */
public final class ClusterQuorum implements Shareable {

  private static final String MAP = "deepchat.cluster";
  private static final String KEY = "quorum";
  private static final ClusterQuorum NONE = new ClusterQuorum(0, () -> 1);

  private final int quorum;
  private final IntSupplier members;
  private volatile boolean reached;

  ClusterQuorum(int quorum, IntSupplier members) {
    this.quorum = quorum;
    this.members = members;
  }

  /**
   * Installs the quorum rule of a clustered Vert.x instance ({@code quorum} 0: none) and returns it.
   * Call once, after the cluster has started and before the gateway deploys.
   */
  public static ClusterQuorum install(Vertx vertx, int quorum) {
    HazelcastInstance hazelcast = ClusterMembership.hazelcast(vertx);
    if (hazelcast == null) {
      return NONE;
    }
    ClusterQuorum q = new ClusterQuorum(Math.max(0, quorum), () -> hazelcast.getCluster().getMembers().size());
    // remember reaching the quorum when it happens, not only when someone asks
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        q.hasMajority();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
      }
    });
    q.hasMajority();
    vertx.sharedData().getLocalMap(MAP).put(KEY, q);
    return q;
  }

  /** The rule installed on this Vert.x instance; without one, a rule that always has the majority. */
  public static ClusterQuorum of(Vertx vertx) {
    Object q = vertx.sharedData().getLocalMap(MAP).get(KEY);
    return q == null ? NONE : (ClusterQuorum) q;
  }

  /** True unless the node once saw the quorum and now sees fewer members. */
  public boolean hasMajority() {
    if (quorum <= 0) {
      return true;
    }
    if (members.getAsInt() >= quorum) {
      reached = true;
      return true;
    }
    return !reached;
  }

  /** Members this node sees now, itself included (1 when not clustered). */
  public int members() {
    return members.getAsInt();
  }

  /** Members needed (0: no rule). */
  public int quorum() {
    return quorum;
  }
}
