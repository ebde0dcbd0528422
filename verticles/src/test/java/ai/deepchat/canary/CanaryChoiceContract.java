package ai.deepchat.canary;

import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.cluster.BusPairContract;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The canary choice as a bus contract, written once and run by {@link LocalCanaryChoiceTest} (two
 * services on one Vert.x instance) and {@link ClusterCanaryTest} (two clustered nodes sharing one
 * PostgreSQL): a rollout change made on one side reaches the other's routing within a second, through
 * the change event ({@code canary.routing.changed}) and a reload.
 */
abstract class CanaryChoiceContract extends BusPairContract {

  private CanaryServices onA;
  private CanaryServices onB;
  private Database db;

  @BeforeAll
  void startServices() throws Exception {
    db = TestDatabase.fresh(nodes.asking()).database();
    // a long periodic refresh, so only the change event can explain a fast update
    Platform platform = CanaryTestSupport.platform(db, Map.of("CANARY_REFRESH_SECONDS", "3600",
        "OUTBOUND_ALLOWED_HOSTS", "127.0.0.1"));
    onA = CanaryTestSupport.services(nodes.asking(), platform);
    onB = CanaryTestSupport.services(nodes.serving(), platform);
  }

  @AfterAll
  void stop() throws Exception {
    await(onA.close());
    await(onB.close());
  }

  /** Polls node B until every probe conversation is on {@code expected}; returns the milliseconds it took. */
  private long millisUntilBRoutes(UUID tenant, List<UUID> probes, UUID expected) throws Exception {
    long start = System.nanoTime();
    until("node B routes every probe to " + expected, Duration.ofSeconds(5), () -> {
      for (UUID c : probes) {
        if (!await(onB.chooser().choose(tenant, c)).orElseThrow().version().id().equals(expected)) {
          return false;
        }
      }
      return true;
    });
    return (System.nanoTime() - start) / 1_000_000;
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
