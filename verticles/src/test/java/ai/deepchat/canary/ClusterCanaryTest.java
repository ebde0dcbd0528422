package ai.deepchat.canary;

import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.cluster.LoopbackCluster;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered Vert.x nodes in one JVM sharing one PostgreSQL: a rollout change made on one node
 * reaches the other's routing within a second, through the change event and a reload.
 */
class ClusterCanaryTest {

  private static LoopbackCluster cluster;
  private static Vertx nodeA;
  private static Vertx nodeB;
  private static CanaryServices onA;
  private static CanaryServices onB;
  private static Database db;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = LoopbackCluster.started(2);
    nodeA = cluster.node(0);
    nodeB = cluster.node(1);
    db = TestDatabase.fresh(nodeA).database();
    // a long periodic refresh, so only the change event can explain a fast update
    Platform platform = CanaryTestSupport.platform(db, Map.of("CANARY_REFRESH_SECONDS", "3600",
        "OUTBOUND_ALLOWED_HOSTS", "127.0.0.1"));
    onA = CanaryTestSupport.services(nodeA, platform);
    onB = CanaryTestSupport.services(nodeB, platform);
  }

  @AfterAll
  static void stop() throws Exception {
    await(onA.close());
    await(onB.close());
    cluster.close();
  }

  /** Polls node B until every probe conversation is on {@code expected}; returns the milliseconds it took. */
  private static long millisUntilBRoutes(UUID tenant, List<UUID> probes, UUID expected) throws Exception {
    long start = System.nanoTime();
    while (System.nanoTime() - start < 5_000_000_000L) {
      boolean all = true;
      for (UUID c : probes) {
        all &= await(onB.chooser().choose(tenant, c)).orElseThrow().version().id().equals(expected);
      }
      if (all) {
        return (System.nanoTime() - start) / 1_000_000;
      }
      Thread.sleep(10);
    }
    return Long.MAX_VALUE;
  }

  @Test
  void aRolloutChangeOnOneNodeIsSeenByTheOtherWithinOneSecond() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "clustered");
    ModelVersion stable = CanaryTestSupport.stable(onA, tenant,
        CanaryTestSupport.openai(onA, tenant, "v1", "http://127.0.0.1:1"));
    ModelVersion candidate = CanaryTestSupport.openai(onA, tenant, "v2", "http://127.0.0.1:2");
    List<UUID> probes = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
    // node B has the tenant's routing cached before the change
    assertThat(millisUntilBRoutes(tenant, probes, stable.id())).isLessThan(1000);

    Rollout rollout = await(onA.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.CANARY, candidate.id(), 10_000, List.of(), null), ADMIN));
    assertThat(millisUntilBRoutes(tenant, probes, candidate.id())).isLessThan(1000);

    await(onA.rollouts().setPercentage(Scope.tenant(tenant), rollout.id(), 0, ADMIN));
    assertThat(millisUntilBRoutes(tenant, probes, stable.id())).isLessThan(1000);

    await(onA.rollouts().setPercentage(Scope.tenant(tenant), rollout.id(), 10_000, ADMIN));
    assertThat(millisUntilBRoutes(tenant, probes, candidate.id())).isLessThan(1000);
    await(onA.rollouts().rollback(Scope.tenant(tenant), rollout.id(), ADMIN, "operator test", Map.of()));
    assertThat(millisUntilBRoutes(tenant, probes, stable.id())).isLessThan(1000);
  }
}
