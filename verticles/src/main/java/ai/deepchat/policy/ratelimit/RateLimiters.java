package ai.deepchat.policy.ratelimit;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.time.Clock;

/** Picks the limiter (and back-off) for a Vert.x instance: shared through Hazelcast when clustered, in-JVM otherwise. */
public final class RateLimiters {

  private RateLimiters() {
  }

  public static RateLimiter forVertx(Vertx vertx, Clock clock, int maxLocalBuckets) {
    HazelcastInstance hazelcast = hazelcast(vertx);
    return hazelcast != null ? new ClusteredRateLimiter(vertx, hazelcast, clock)
        : new LocalRateLimiter(clock, maxLocalBuckets);
  }

  /** The failure back-off for a Vert.x instance: through Hazelcast when clustered, in-JVM otherwise. */
  public static FailureBackoff backoffFor(Vertx vertx, Clock clock, int maxLocalEntries) {
    HazelcastInstance hazelcast = hazelcast(vertx);
    return hazelcast != null ? new ClusteredFailureBackoff(vertx, hazelcast, clock)
        : new LocalFailureBackoff(clock, maxLocalEntries);
  }

  private static HazelcastInstance hazelcast(Vertx vertx) {
    if (vertx.isClustered() && vertx instanceof VertxInternal internal
        && internal.clusterManager() instanceof HazelcastClusterManager manager) {
      return manager.getHazelcastInstance();
    }
    return null;
  }
}
