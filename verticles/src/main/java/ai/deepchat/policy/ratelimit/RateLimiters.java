package ai.deepchat.policy.ratelimit;

import ai.deepchat.platform.cluster.ClusterMembership;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;

import java.time.Clock;

/** Picks the limiter (and back-off) for a Vert.x instance: shared through Hazelcast when clustered, in-JVM otherwise. */
public final class RateLimiters {

  private RateLimiters() {
  }

  public static RateLimiter forVertx(Vertx vertx, Clock clock, int maxLocalBuckets) {
    HazelcastInstance hazelcast = ClusterMembership.hazelcast(vertx);
    return hazelcast != null ? new ClusteredRateLimiter(vertx, hazelcast, clock)
        : new LocalRateLimiter(clock, maxLocalBuckets);
  }

  /** The failure back-off for a Vert.x instance: through Hazelcast when clustered, in-JVM otherwise. */
  public static FailureBackoff backoffFor(Vertx vertx, Clock clock, int maxLocalEntries) {
    HazelcastInstance hazelcast = ClusterMembership.hazelcast(vertx);
    return hazelcast != null ? new ClusteredFailureBackoff(vertx, hazelcast, clock)
        : new LocalFailureBackoff(clock, maxLocalEntries);
  }
}
