package ai.deepchat.policy.ratelimit;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.time.Clock;

/** Picks the limiter for a Vert.x instance: shared through Hazelcast when clustered, in-JVM otherwise. */
public final class RateLimiters {

  private RateLimiters() {
  }

  public static RateLimiter forVertx(Vertx vertx, Clock clock, int maxLocalBuckets) {
    if (vertx.isClustered() && vertx instanceof VertxInternal internal) {
      ClusterManager manager = internal.clusterManager();
      if (manager instanceof HazelcastClusterManager hazelcast) {
        return new ClusteredRateLimiter(vertx, hazelcast.getHazelcastInstance(), clock);
      }
    }
    return new LocalRateLimiter(clock, maxLocalBuckets);
  }
}
