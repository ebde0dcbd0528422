package ai.deepchat.policy.ratelimit;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.cluster.ClusterManagers;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static ai.deepchat.policy.PolicyTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Two clustered Vert.x nodes in one JVM on loopback share one bucket through Hazelcast. */
class ClusteredRateLimiterTest {

  private static final List<Vertx> nodes = new ArrayList<>();
  private static final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private static RateLimiter first;
  private static RateLimiter second;

  @BeforeAll
  static void startCluster() throws Exception {
    // a cluster name of its own, so parallel test runs on this host never join each other
    String name = "policy-test-" + UUID.randomUUID();
    Vertx a = startNode(name, 15741);
    Vertx b = startNode(name, 15742);
    first = RateLimiters.forVertx(a, clock, 1000);
    second = RateLimiters.forVertx(b, clock, 1000);
  }

  private static Vertx startNode(String clusterName, int port) throws Exception {
    PlatformConfig.Cluster cluster = new PlatformConfig.Cluster("hazelcast",
        List.of("127.0.0.1:15741", "127.0.0.1:15742"), "127.0.0.1", port, 0, 5, Optional.empty());
    HazelcastClusterManager manager = ClusterManagers.hazelcast(cluster);
    manager.getConfig().setClusterName(clusterName);
    Vertx vertx = await(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(ClusterManagers.eventBus(cluster)))
        .withClusterManager(manager)
        .buildClustered());
    Codecs.registerAll(vertx);
    nodes.add(vertx);
    return vertx;
  }

  @AfterAll
  static void stop() throws Exception {
    for (Vertx v : nodes) {
      await(v.close());
    }
  }

  @Test
  void clusteredVertxGetsTheSharedLimiter() {
    assertThat(first).isInstanceOf(ClusteredRateLimiter.class);
    assertThat(second).isInstanceOf(ClusteredRateLimiter.class);
    Vertx local = Vertx.vertx();
    try {
      assertThat(RateLimiters.forVertx(local, clock, 10)).isInstanceOf(LocalRateLimiter.class);
    } finally {
      local.close();
    }
  }

  @Test
  void bothNodesDrawFromOneBucket() throws Exception {
    String key = "t:" + UUID.randomUUID();
    int allowed = 0;
    for (int i = 0; i < 5; i++) {
      RateLimiter node = i % 2 == 0 ? first : second;
      if (await(node.tryAcquire(key, 5)).allowed()) {
        allowed++;
      }
    }
    assertThat(allowed).isEqualTo(5);
    RateDecision onFirst = await(first.tryAcquire(key, 5));
    RateDecision onSecond = await(second.tryAcquire(key, 5));
    assertThat(onFirst.allowed()).isFalse();
    assertThat(onSecond.allowed()).isFalse();
    assertThat(onSecond.retryAfterSeconds()).isEqualTo(12);
    clock.advance(Duration.ofSeconds(12));
    assertThat(await(second.tryAcquire(key, 5)).allowed()).isTrue();
    assertThat(await(first.tryAcquire(key, 5)).allowed()).isFalse();
  }

  @Test
  void concurrentTakesFromBothNodesNeverOverGrant() throws Exception {
    String key = "v:" + UUID.randomUUID();
    List<Future<RateDecision>> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add((i % 2 == 0 ? first : second).tryAcquire(key, 10));
    }
    await(Future.all(all));
    long granted = all.stream().filter(f -> f.result().allowed()).count();
    assertThat(granted).isEqualTo(10);
  }
}
