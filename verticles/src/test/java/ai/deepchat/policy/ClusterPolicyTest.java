package ai.deepchat.policy;

import ai.deepchat.platform.cluster.LoopbackCluster;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict.Action;
import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.policy.moderation.SensitiveWords;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.ClusteredFailureBackoff;
import ai.deepchat.policy.ratelimit.ClusteredRateLimiter;
import ai.deepchat.policy.ratelimit.FailureBackoff;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;
import ai.deepchat.policy.ratelimit.RateDecision;
import ai.deepchat.policy.ratelimit.RateLimiter;
import ai.deepchat.policy.ratelimit.RateLimiters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered Vert.x nodes in one JVM on loopback: they share one rate-limit bucket through
 * Hazelcast, and a word-list change made on one node reaches the other's cache over the bus.
 */
class ClusterPolicyTest {

  private static LoopbackCluster cluster;
  private static final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private static RateLimiter first;
  private static RateLimiter second;
  private static Vertx nodeA;
  private static Vertx nodeB;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = LoopbackCluster.started(2);
    nodeA = cluster.node(0);
    nodeB = cluster.node(1);
    first = RateLimiters.forVertx(nodeA, clock, 1000);
    second = RateLimiters.forVertx(nodeB, clock, 1000);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
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
  void signInBackoffIsSharedByBothNodesAndClearedBySuccess() throws Exception {
    FailureBackoff onA = RateLimiters.backoffFor(nodeA, clock, 1000);
    FailureBackoff onB = RateLimiters.backoffFor(nodeB, clock, 1000);
    assertThat(onA).isInstanceOf(ClusteredFailureBackoff.class);
    String key = "signin|ws|a@b.test|127.0.0.9";
    for (int i = 0; i < FailureBackoff.FREE_FAILURES; i++) {
      assertThat(await((i % 2 == 0 ? onA : onB).fail(key)).retryAfterSeconds()).isZero();
    }
    assertThat(await(onB.fail(key))).isEqualTo(new FailureBackoff.Delay(4, 1));
    assertThat(await(onA.retryAfterSeconds(key))).as("moving to another node does not reset the wait").isEqualTo(1);
    assertThat(await(onA.fail(key)).retryAfterSeconds()).isEqualTo(2);
    assertThat(await(onB.retryAfterSeconds("signin|ws|a@b.test|127.0.0.10"))).as("other addresses unaffected").isZero();
    await(onB.clear(key));
    assertThat(await(onA.retryAfterSeconds(key))).isZero();
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

  @Test
  void aWordListChangedOnOneNodeIsDroppedFromTheOthersCache() throws Exception {
    TestDatabase testDb = TestDatabase.fresh(nodeA);
    Database dbA = testDb.database();
    UUID tenant = PolicyTestSupport.createTenant(dbA, "clustered-words");
    ModerationService onB = ModerationService.create(nodeB, dbA);
    await(onB.ready());
    assertThat(await(onB.checkInput(tenant, "win at roulette")).action()).isEqualTo(Action.ALLOW);

    await(new SensitiveWords(nodeA, dbA, new AuditLog(dbA)).add(tenant, List.of("roulette"), "user:admin", null));
    until("the change reached node B", Duration.ofSeconds(10),
        () -> await(onB.checkInput(tenant, "win at roulette")).action() != Action.ALLOW);
    assertThat(await(onB.checkInput(tenant, "win at roulette")).action()).isEqualTo(Action.BLOCK);
    await(onB.close());
  }
}
