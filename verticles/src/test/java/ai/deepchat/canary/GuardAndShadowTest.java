package ai.deepchat.canary;

import ai.deepchat.canary.guard.Outcome;
import ai.deepchat.canary.metrics.ShadowRecorder;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.registry.VersionState;
import ai.deepchat.canary.rollout.Arm;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard and shadow mode through the dispatch path, against OpenAI-compatible endpoints emulated
 * by local Vert.x HTTP servers and real PostgreSQL.
 */
@ExtendWith(VertxExtension.class)
class GuardAndShadowTest {

  static Vertx vertx;
  static TestDatabase testDb;
  static Database db;
  static CanaryServices services;
  static TestDispatch dispatch;
  static final List<FakeModelServer> servers = new ArrayList<>();

  @BeforeAll
  static void setUp(Vertx v) throws Exception {
    vertx = v;
    Codecs.registerAll(v);
    testDb = TestDatabase.fresh(v);
    db = testDb.database();
    // a small window and minimum sample so the test drives the guard with a few dozen requests
    Platform platform = CanaryTestSupport.platform(db, Map.of("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1", "CANARY_MAX_ERROR_RATE", "0.2",
        "CANARY_GUARD_MIN_SAMPLES", "20", "CANARY_GUARD_WINDOW_SECONDS", "60", "CANARY_SHADOW_AGREEMENT", "0.9"));
    services = CanaryTestSupport.services(v, platform);
    dispatch = new TestDispatch(services, WebClient.create(v));
  }

  @AfterAll
  static void tearDown() throws Exception {
    for (FakeModelServer s : servers) {
      s.close();
    }
    await(services.close());
  }

  static FakeModelServer server(String answer, java.util.function.IntPredicate fails) throws Exception {
    FakeModelServer s = FakeModelServer.start(vertx, answer, fails);
    servers.add(s);
    return s;
  }

  @Test
  void aCandidateFailingHalfItsRequestsIsRolledBackAndTheAuditSaysWhy() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "guarded");
    FakeModelServer good = server("stable answer", n -> false);
    FakeModelServer flaky = server("candidate answer", n -> n % 2 == 0);
    ModelVersion stable = CanaryTestSupport.stable(services, tenant,
        CanaryTestSupport.openai(services, tenant, "v1", good.url()));
    ModelVersion candidate = CanaryTestSupport.openai(services, tenant, "v2", flaky.url());
    Rollout rollout = await(services.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.CANARY, candidate.id(), 5000, List.of(), null), ADMIN));

    int answered = 0;
    int candidateRequestsAtRollback = -1;
    for (int i = 0; i < 400; i++) {
      TestDispatch.Answer a = await(dispatch.ask(tenant, UUID.randomUUID(), "hello " + i));
      // the caller always gets an answer: a failed candidate falls back to stable before any token
      assertThat(a.text()).isIn("stable answer", "candidate answer");
      answered++;
      Rollout now = await(services.rollouts().get(Scope.tenant(tenant), rollout.id()));
      if (!now.active()) {
        candidateRequestsAtRollback = flaky.served();
        break;
      }
    }
    assertThat(answered).isGreaterThan(0);
    // rolled back as soon as the window held the minimum sample: 20 candidate requests
    assertThat(candidateRequestsAtRollback).isBetween(20, 21);
    Rollout ended = await(services.rollouts().get(Scope.tenant(tenant), rollout.id()));
    assertThat(ended.state()).isEqualTo("rolled_back");
    assertThat(ended.reason()).contains("error rate").contains("exceeds the bound 20.0%");
    assertThat(await(services.registry().get(Scope.tenant(tenant), candidate.id())).state())
        .isEqualTo(VersionState.DRAFT);

    Row audit = await(db.inTenant(tenant, c -> c.preparedQuery("SELECT actor, target, details FROM audit_log"
        + " WHERE action = 'rollout.rolled_back'").execute()).map(rows -> rows.iterator().next()));
    assertThat(audit.getString("actor")).isEqualTo("system:canary-guard");
    assertThat(audit.getString("target")).isEqualTo(rollout.id().toString());
    JsonObject details = audit.getJsonObject("details");
    assertThat(details.getString("reason")).contains("error rate 50.0%");
    assertThat(details.getBoolean("automatic")).isTrue();
    assertThat(details.getInteger("requests")).isEqualTo(20);
    assertThat(details.getInteger("errors")).isEqualTo(10);
    assertThat(await(new AuditLog(db).verify(tenant)).intact()).isTrue();

    // after the rollback every conversation goes to stable, once the change event reloaded the snapshot
    until("the rollback reached the routing snapshot", Duration.ofSeconds(10),
        () -> await(services.chooser().routing(Scope.tenant(tenant))).active() == null);
    for (int i = 0; i < 50; i++) {
      Assignment a = await(services.chooser().choose(tenant, UUID.randomUUID())).orElseThrow();
      assertThat(a.version().id()).isEqualTo(stable.id());
    }
  }

  @Test
  void aSlowCandidateIsRolledBackOnItsP95TimeToFirstToken() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "slow");
    CanaryTestSupport.stable(services, tenant, CanaryTestSupport.openai(services, tenant, "fast", "http://127.0.0.1:1"));
    ModelVersion candidate = CanaryTestSupport.openai(services, tenant, "slow", "http://127.0.0.1:2");
    Rollout rollout = await(services.rollouts().start(Scope.tenant(tenant), new StartRequest(RolloutMode.CANARY,
        candidate.id(), 10_000, List.of(), new JsonObject().put("maxP95TtftMs", 800).put("minSamples", 10)), ADMIN));
    Assignment a = await(services.chooser().choose(tenant, UUID.randomUUID())).orElseThrow();
    assertThat(a.candidate()).isTrue();
    Rollout result = null;
    for (int i = 0; i < 10; i++) {
      // 9 of 10 fast; one slow request does not move the p95 of 10 over the bound; every request slow does
      result = await(services.outcomes().record(a, Outcome.success(i < 8 ? 100 : 2000, 50, 3000)));
    }
    assertThat(result).isNotNull();
    assertThat(result.state()).isEqualTo("rolled_back");
    assertThat(result.reason()).contains("p95 time to first token 2000 ms");
    assertThat(await(services.rollouts().get(Scope.tenant(tenant), rollout.id())).active()).isFalse();
  }

  @Test
  void shadowAnswersAreStoredAndNeverReturned() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "shadowed");
    FakeModelServer stableServer = server("Our store opens at nine in the morning.", n -> false);
    FakeModelServer candidateServer = server("SHADOW-ONLY: the store opens at 9 am.", n -> false);
    ModelVersion stable = CanaryTestSupport.stable(services, tenant,
        CanaryTestSupport.openai(services, tenant, "prod", stableServer.url()));
    ModelVersion candidate = CanaryTestSupport.openai(services, tenant, "next", candidateServer.url());
    Rollout rollout = await(services.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.SHADOW, candidate.id(), 10_000, List.of(), null), ADMIN));

    List<ShadowRecorder.Stored> stored = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      UUID conv = UUID.randomUUID();
      TestDispatch.Answer answer = await(dispatch.ask(tenant, conv, "When do you open?"));
      assertThat(answer.text()).isEqualTo("Our store opens at nine in the morning.").doesNotContain("SHADOW-ONLY");
      assertThat(answer.versionId()).isEqualTo(stable.id());
      assertThat(answer.shadow()).isNotNull();
      stored.add(await(answer.shadow()));
    }
    assertThat(candidateServer.served()).isEqualTo(5);
    assertThat(stored).allSatisfy(s -> assertThat(s.similarity()).isBetween(0.5, 0.999));

    List<Row> rows = await(db.inTenant(tenant, c -> c.preparedQuery("SELECT * FROM shadow_answers WHERE rollout_id = $1")
        .execute(Tuple.of(rollout.id()))).map(r -> {
          List<Row> out = new ArrayList<>();
          r.forEach(out::add);
          return out;
        }));
    assertThat(rows).hasSize(5).allSatisfy(r -> {
      assertThat(r.getString("candidate_answer")).startsWith("SHADOW-ONLY");
      assertThat(r.getString("stable_answer")).isEqualTo("Our store opens at nine in the morning.");
      assertThat(r.getUUID("candidate_version_id")).isEqualTo(candidate.id());
      assertThat(r.getBoolean("agreed")).isEqualTo(r.getFloat("similarity") >= 0.9f);
    });

    // the summary counts the pairs for the candidate
    JsonObject summary = await(services.summary().of(tenant));
    JsonObject next = summary.getJsonArray("versions").stream().map(JsonObject.class::cast)
        .filter(v -> v.getString("name").equals("next")).findFirst().orElseThrow();
    assertThat(next.getJsonObject("shadow").getLong("pairs")).isEqualTo(5);
    assertThat(summary.getJsonObject("rollout").getString("mode")).isEqualTo("shadow");

    // identical answers agree exactly; a different tenant cannot read the pairs
    UUID other = CanaryTestSupport.createTenant(db, "other-shadow");
    Long visible = await(db.inTenant(other, c -> c.query("SELECT count(*) FROM shadow_answers").execute()
        .map(r -> r.iterator().next().getLong(0))));
    assertThat(visible).isZero();
  }

  /**
   * A/B with pair sampling at 100%: every turn is answered by its own arm only, and the other arm answers the
   * same prompt in the background into shadow_answers (shown arm as stable, other arm as candidate): the
   * preference pairs datasets build from. Without pair sampling an A/B turn has no background answer.
   */
  @Test
  void abPairSamplingAlsoAsksTheOtherArmInTheBackground() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "ab-pairs");
    FakeModelServer aServer = server("ARM-A: we open at nine.", n -> false);
    FakeModelServer bServer = server("ARM-B: opening time is 9 am.", n -> false);
    ModelVersion a = CanaryTestSupport.stable(services, tenant, CanaryTestSupport.openai(services, tenant, "a", aServer.url()));
    ModelVersion b = CanaryTestSupport.openai(services, tenant, "b", bServer.url());
    List<Arm> arms = List.of(new Arm(a.id(), 5_000), new Arm(b.id(), 5_000));
    Rollout plain = await(services.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.AB, null, 0, arms, null), ADMIN));
    assertThat(plain.pairBasisPoints()).isZero();
    assertThat(await(dispatch.ask(tenant, UUID.randomUUID(), "When do you open?")).shadow()).isNull();
    await(services.rollouts().rollback(Scope.tenant(tenant), plain.id(), ADMIN, "next", Map.of()));

    ModelVersion b2 = CanaryTestSupport.openai(services, tenant, "b2", bServer.url());
    Rollout rollout = await(services.rollouts().start(Scope.tenant(tenant), new StartRequest(RolloutMode.AB, null, 0,
        List.of(new Arm(a.id(), 5_000), new Arm(b2.id(), 5_000)), null, 10_000), ADMIN));
    assertThat(rollout.pairBasisPoints()).isEqualTo(10_000);
    until("the pair-sampling rollout reached the routing", Duration.ofSeconds(10), () -> await(services.chooser()
        .choose(tenant, UUID.randomUUID())).orElseThrow().shadow() != null);
    for (int i = 0; i < 8; i++) {
      TestDispatch.Answer answer = await(dispatch.ask(tenant, UUID.randomUUID(), "When do you open?"));
      String other = answer.versionId().equals(a.id()) ? "ARM-B" : "ARM-A";
      assertThat(answer.text()).doesNotContain(other);
      assertThat(answer.shadow()).isNotNull();
      await(answer.shadow());
    }
    List<Row> rows = await(db.inTenant(tenant, c -> c.preparedQuery("SELECT * FROM shadow_answers WHERE rollout_id = $1")
        .execute(Tuple.of(rollout.id()))).map(r -> {
          List<Row> out = new ArrayList<>();
          r.forEach(out::add);
          return out;
        }));
    assertThat(rows).hasSize(8).allSatisfy(r -> {
      boolean shownA = r.getUUID("stable_version_id").equals(a.id());
      assertThat(r.getUUID("candidate_version_id")).isEqualTo(shownA ? b2.id() : a.id());
      assertThat(r.getString("stable_answer")).startsWith(shownA ? "ARM-A" : "ARM-B");
      assertThat(r.getString("candidate_answer")).startsWith(shownA ? "ARM-B" : "ARM-A");
    });
  }

  @Test
  void withTheCandidatesWorkerGoneEveryCallerIsAnsweredByStable() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "workerless");
    FakeModelServer good = server("stable answer", n -> false);
    ModelVersion stable = CanaryTestSupport.stable(services, tenant,
        CanaryTestSupport.openai(services, tenant, "remote", good.url()));
    ModelVersion candidate = CanaryTestSupport.local(services, tenant, "gpu-next", "model-nobody-serves");
    await(services.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.CANARY, candidate.id(), 10_000, List.of(), null), ADMIN));
    for (int i = 0; i < 20; i++) {
      TestDispatch.Answer a = await(dispatch.ask(tenant, UUID.randomUUID(), "hi"));
      assertThat(a.text()).isEqualTo("stable answer");
      assertThat(a.versionId()).isEqualTo(stable.id());
    }
    assertThat(good.served()).isEqualTo(20);
  }
}
