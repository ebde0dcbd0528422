package ai.deepchat.chat;

import ai.deepchat.canary.CanaryTestSupport;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.canary.rollout.Routing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rollout routing through the deployed chat path: real HTTP into the gateway, real PostgreSQL, model
 * versions served by OpenAI-compatible endpoints emulated by local Vert.x servers.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RolloutRoutingIntegrationTest {

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    // a small guard sample so a few dozen real requests decide a rollback
    h = new ChatHarness(vertx).startWithCanary(Map.of("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1", "CANARY_GUARD_MIN_SAMPLES", "10",
        "CANARY_MAX_ERROR_RATE", "0.2", "CANARY_GUARD_WINDOW_SECONDS", "60"));
  }

  /** A tenant whose serving stable version answers "stable answer", and a draft candidate. */
  private record Setup(ChatHarness.Tenant tenant, ModelVersion stable, ModelVersion candidate,
                       VersionEndpoint stableEndpoint, VersionEndpoint candidateEndpoint) {
  }

  private Setup setup(String slug, java.util.function.IntPredicate candidateFails) throws Exception {
    ChatHarness.Tenant t = h.tenant(slug);
    VersionEndpoint s = VersionEndpoint.start(vertx, "stable answer", n -> false);
    VersionEndpoint c = VersionEndpoint.start(vertx, "candidate answer", candidateFails);
    ModelVersion stable = CanaryTestSupport.stable(h.canary, t.id(), CanaryTestSupport.openai(h.canary, t.id(),
        slug + "-v1", s.url()));
    ModelVersion candidate = CanaryTestSupport.openai(h.canary, t.id(), slug + "-v2", c.url());
    return new Setup(t, stable, candidate, s, c);
  }

  private Rollout startRollout(Setup s, RolloutMode mode, int basisPoints) throws Exception {
    Rollout r = await(h.canary.rollouts().start(Scope.tenant(s.tenant().id()),
        new StartRequest(mode, s.candidate().id(), basisPoints, List.of(), null), ADMIN));
    awaitRouting(s, routing -> routing.active() != null && routing.active().basisPoints() == basisPoints);
    return r;
  }

  /** Changes reach the chooser by event; wait until this node's snapshot shows one. */
  private void awaitRouting(Setup s, Predicate<Routing> seen) throws Exception {
    until("the routing change reached the chooser", Duration.ofSeconds(10),
        () -> seen.test(await(h.canary.chooser().routing(Scope.tenant(s.tenant().id())))));
  }

  private JsonObject complete(ChatHarness.Tenant t, String question) {
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject()
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user")
            .put("content", question))).encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    return new JsonObject(resp.body());
  }

  private static String answer(JsonObject completion) {
    return completion.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  /** One widget turn over SSE; returns the events. */
  private List<JsonObject> widgetTurn(ChatHarness.Tenant t, String token, String conversationId, String text) {
    JsonObject body = new JsonObject().put("type", "message").put("text", text)
        .put("conversationId", conversationId).put("clientMessageId", UUID.randomUUID().toString());
    HttpResponse<String> resp = h.send(h.request("/widget/chat").header("Authorization", "Bearer " + token)
        .header("Origin", t.origin()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())));
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    List<JsonObject> events = resp.body().lines().filter(l -> l.startsWith("data: "))
        .map(l -> new JsonObject(l.substring(6))).toList();
    assertThat(events.get(events.size() - 1).getString("type")).as(events.toString()).isEqualTo("done");
    return events;
  }

  private static String text(List<JsonObject> events) {
    return events.stream().filter(e -> e.getString("type").equals("delta"))
        .map(e -> e.getString("content", "")).reduce("", String::concat);
  }

  private String visitorToken(ChatHarness.Tenant t) {
    HttpResponse<String> resp = h.send(h.request("/widget/session").header("Content-Type", "application/json")
        .header("Origin", t.origin())
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", t.widgetKey()).encode())));
    assertThat(resp.statusCode()).isEqualTo(200);
    return new JsonObject(resp.body()).getString("visitorToken");
  }

  @Test
  void aFullCanaryAnswersNewConversationsWhileAnOlderOneKeepsItsVersion() throws Exception {
    Setup s = setup("canary-full", n -> false);
    Rollout rollout = startRollout(s, RolloutMode.CANARY, 0);
    String token = visitorToken(s.tenant());
    List<JsonObject> first = widgetTurn(s.tenant(), token, null, "Where is my order?");
    String conversationId = first.get(0).getString("conversationId");
    assertThat(text(first)).isEqualTo("stable answer");
    assertThat(h.string("SELECT model_version_id FROM conversations WHERE id = '" + conversationId + "'"))
        .isEqualTo(s.stable().id().toString());

    await(h.canary.rollouts().setPercentage(Scope.tenant(s.tenant().id()), rollout.id(), 10_000, ADMIN));
    awaitRouting(s, routing -> routing.active().basisPoints() == 10_000);

    for (int i = 0; i < 5; i++) {
      JsonObject completion = complete(s.tenant(), "API question " + i);
      assertThat(answer(completion)).isEqualTo("candidate answer");
      assertThat(completion.getString("model")).isEqualTo("canary-full-v2");
    }
    assertThat(s.candidateEndpoint().questions).contains("API question 0", "API question 4");
    assertThat(h.count("SELECT count(*) FROM messages WHERE role = 'assistant' AND model_version_id = '"
        + s.candidate().id() + "'")).isEqualTo(5);

    // the conversation begun at 0% stays on the stable version; a new one gets the candidate
    List<JsonObject> second = widgetTurn(s.tenant(), token, conversationId, "And when does it arrive?");
    assertThat(text(second)).isEqualTo("stable answer");
    assertThat(s.stableEndpoint().questions).contains("And when does it arrive?");
    assertThat(text(widgetTurn(s.tenant(), token, null, "A new question"))).isEqualTo("candidate answer");
    // widget turns bring no sampling: the version's own defaults apply (temperature 0.3 in its params)
    assertThat(s.candidateEndpoint().requests.get(s.candidateEndpoint().requests.size() - 1).getDouble("temperature"))
        .isEqualTo(0.3);
    assertThat(s.stableEndpoint().requests.get(0).getDouble("temperature")).isEqualTo(0.3);

    // a rating reaches the answer's row (and the version's metrics)
    String messageId = second.get(0).getString("messageId");
    HttpResponse<String> rated = h.send(h.request("/widget/feedback").header("Authorization", "Bearer " + token)
        .header("Origin", s.tenant().origin()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("messageId", messageId).put("value", -1).encode())));
    assertThat(rated.statusCode()).isEqualTo(204);
    assertThat(h.string("SELECT feedback || ':' || model_version_id FROM messages WHERE id = '" + messageId + "'"))
        .isEqualTo("-1:" + s.stable().id());
  }

  @Test
  void aCandidateFailingEverySecondRequestIsRolledBackWhileCallersAreStillAnswered() throws Exception {
    Setup s = setup("canary-flaky", n -> n % 2 == 0);
    Rollout rollout = startRollout(s, RolloutMode.CANARY, 10_000);
    boolean rolledBack = false;
    int requests = 0;
    for (; requests < 60 && !rolledBack; requests++) {
      String text = answer(complete(s.tenant(), "flaky question " + requests));
      // a failed candidate gives way to the stable version before any token: the caller never sees the failure
      assertThat(text).isIn("candidate answer", "stable answer");
      rolledBack = !await(h.canary.rollouts().get(Scope.tenant(s.tenant().id()), rollout.id())).active();
    }
    assertThat(rolledBack).as("rolled back within 60 requests").isTrue();
    // outcomes are reported after the answer, so a request may still reach the candidate while the rollback commits
    assertThat(s.candidateEndpoint().served()).isBetween(10, 12);
    // every failed candidate request was answered by the stable fallback instead
    assertThat(s.stableEndpoint().served()).isGreaterThanOrEqualTo(s.candidateEndpoint().served() / 2);
    Rollout ended = await(h.canary.rollouts().get(Scope.tenant(s.tenant().id()), rollout.id()));
    assertThat(ended.state()).isEqualTo("rolled_back");
    assertThat(ended.reason()).contains("error rate");
    assertThat(h.string("SELECT actor || ' ' || target FROM audit_log WHERE tenant_id = '" + s.tenant().id()
        + "' AND action = 'rollout.rolled_back'")).isEqualTo("system:canary-guard " + rollout.id());
    // the guard decided on its minimum sample: 10 candidate requests, 5 of them failed
    JsonObject details = new JsonObject(h.string("SELECT details FROM audit_log WHERE tenant_id = '" + s.tenant().id()
        + "' AND action = 'rollout.rolled_back'"));
    assertThat(details.getInteger("requests")).isEqualTo(10);
    assertThat(details.getInteger("errors")).isEqualTo(5);
    assertThat(details.getBoolean("automatic")).isTrue();

    awaitRouting(s, routing -> routing.active() == null);
    int candidateServed = s.candidateEndpoint().served();
    for (int i = 0; i < 5; i++) {
      assertThat(answer(complete(s.tenant(), "after rollback " + i))).isEqualTo("stable answer");
    }
    assertThat(s.candidateEndpoint().served()).isEqualTo(candidateServed);
  }

  @Test
  void inShadowModeTheClientGetsOnlyTheStableAnswerAndThePairIsStored() throws Exception {
    Setup s = setup("canary-shadow", n -> false);
    Rollout rollout = startRollout(s, RolloutMode.SHADOW, 10_000);
    JsonObject completion = complete(s.tenant(), "Shadowed question");
    assertThat(answer(completion)).isEqualTo("stable answer");
    assertThat(completion.getString("model")).isEqualTo("canary-shadow-v1");

    String where = " FROM shadow_answers WHERE tenant_id = '" + s.tenant().id() + "'";
    until("the shadow answer is stored", Duration.ofSeconds(10), () -> h.count("SELECT count(*)" + where) > 0);
    assertThat(h.count("SELECT count(*)" + where)).isEqualTo(1);
    assertThat(h.string("SELECT concat_ws('|', rollout_id, stable_version_id, candidate_version_id, prompt, "
        + "stable_answer, candidate_answer, candidate_error IS NULL)" + where)).isEqualTo(String.join("|",
        rollout.id().toString(), s.stable().id().toString(), s.candidate().id().toString(), "Shadowed question",
        "stable answer", "candidate answer", "t"));
    assertThat(s.candidateEndpoint().questions).containsExactly("Shadowed question");
  }

  @Test
  void aPlatformWideVersionAnswersTenantsWithoutTheirOwnAndIsNotStoredAsATenantVersion() throws Exception {
    VersionEndpoint platformEndpoint = VersionEndpoint.start(vertx, "platform answer", n -> false);
    ModelVersion platformVersion = await(h.canary.registry().create(Scope.PLATFORM,
        new ai.deepchat.canary.registry.ModelRegistry.VersionSpec("platform-v1",
            ai.deepchat.canary.registry.Backend.OPENAI, platformEndpoint.url(), new JsonObject().put("model", "p1"), ""),
        ADMIN));
    await(h.canary.registry().activate(Scope.PLATFORM, platformVersion.id(), ADMIN, "platform default"));
    ChatHarness.Tenant t = h.tenant("platform-routed");
    until("the platform version reached the chooser", Duration.ofSeconds(10), () -> {
      Routing r = await(h.canary.chooser().routing(Scope.PLATFORM));
      return r.serving() != null && r.serving().id().equals(platformVersion.id());
    });
    JsonObject completion = complete(t, "Platform question");
    assertThat(answer(completion)).isEqualTo("platform answer");
    assertThat(completion.getString("model")).isEqualTo("platform-v1");
    // model_version_id references tenant versions only: the turn is stored without one
    assertThat(h.count("SELECT count(*) FROM messages WHERE tenant_id = '" + t.id() + "' AND role = 'assistant'"
        + " AND status = 'complete' AND model_version_id IS NULL")).isEqualTo(1);
    assertThat(h.count("SELECT count(*) FROM conversations WHERE tenant_id = '" + t.id() + "'"
        + " AND model_version_id IS NULL")).isEqualTo(1);

    // A platform-wide canary serves the tenant too, but it is the platform's, not the tenant's: no outcome row
    // lands in the tenant's rollout_outcomes and the tenant's comparison does not know the rollout (404), so
    // one tenant's traffic is never shown as another's (docs/console.md, "Models": why platform rollouts
    // have no comparison panel).
    VersionEndpoint candidateEndpoint = VersionEndpoint.start(vertx, "platform candidate", n -> false);
    ModelVersion platformCandidate = await(h.canary.registry().create(Scope.PLATFORM,
        new ai.deepchat.canary.registry.ModelRegistry.VersionSpec("platform-v2",
            ai.deepchat.canary.registry.Backend.OPENAI, candidateEndpoint.url(), new JsonObject().put("model", "p2"), ""),
        ADMIN));
    Rollout platformRollout = await(h.canary.rollouts().start(Scope.PLATFORM,
        new StartRequest(RolloutMode.CANARY, platformCandidate.id(), 10_000, List.of(), null), ADMIN));
    try {
      until("the platform canary reached the chooser", Duration.ofSeconds(10), () -> {
        Routing r = await(h.canary.chooser().routing(Scope.PLATFORM));
        return r.active() != null && r.active().id().equals(platformRollout.id());
      });
      assertThat(answer(complete(t, "Platform canary question"))).isEqualTo("platform candidate");
      assertThat(h.count("SELECT count(*) FROM rollout_outcomes WHERE tenant_id = '" + t.id() + "'"))
          .as("no outcome row in the tenant's table").isZero();
      assertThat(await(h.canary.comparison().of(t.id(), platformRollout.id()).map(x -> "found")
          .recover(err -> Future.succeededFuture(err instanceof ai.deepchat.canary.registry.CanaryException ce
              ? ce.failure().name() : err.toString())))).isEqualTo("NOT_FOUND");
    } finally {
      await(h.canary.rollouts().rollback(Scope.PLATFORM, platformRollout.id(), ADMIN, "test over", Map.of()));
    }
  }
}
