package ai.deepchat.canary;

import ai.deepchat.canary.guard.Outcome;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** The admin API over real HTTP through the gateway, with tenant API keys and real PostgreSQL. */
@ExtendWith(VertxExtension.class)
class CanaryApiTest {

  /** A loopback endpoint the operator allow-lists; nothing listens there and nothing is sent to it. */
  static final int LISTED_PORT = 9;
  static Database db;
  static CanaryServices services;
  static WebClient http;
  static int port;
  static UUID tenantA;
  static UUID tenantB;
  static String keyA;
  static String keyB;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    db = TestDatabase.fresh(vertx).database();
    Platform platform = CanaryTestSupport.platform(db, Map.of("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:" + LISTED_PORT));
    services = CanaryTestSupport.services(vertx, platform);
    GatewayVerticle gateway = new GatewayVerticle(platform, List.of(services.httpModule(platform,
        new RequestLimits(vertx, db, new LocalRateLimiter(Clock.systemUTC(), 1000)))));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    http = WebClient.create(vertx);
    tenantA = CanaryTestSupport.createTenant(db, "api-a");
    tenantB = CanaryTestSupport.createTenant(db, "api-b");
    keyA = CanaryTestSupport.apiKey(db, tenantA);
    keyB = CanaryTestSupport.apiKey(db, tenantB);
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(services.close());
  }

  static HttpResponse<Buffer> call(HttpMethod method, String path, String key, Object body) throws Exception {
    var req = http.request(method, port, "127.0.0.1", path);
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    if (body == null) {
      return await(req.send());
    }
    Buffer buf = body instanceof Buffer b ? b : body instanceof JsonObject j ? j.toBuffer() : Buffer.buffer(body.toString());
    return await(req.putHeader("Content-Type", "application/json").sendBuffer(buf));
  }

  static JsonObject ok(HttpResponse<Buffer> r, int status) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    return r.bodyAsJsonObject();
  }

  static String error(HttpResponse<Buffer> r, int status) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    return r.bodyAsJsonObject().getJsonObject("error").getString("code");
  }

  static JsonObject version(String key, String name, JsonObject extra) throws Exception {
    JsonObject body = new JsonObject().put("name", name).put("backend", "openai")
        .put("location", "https://models.example.com").put("params", new JsonObject().put("temperature", 0.2)
            .put("api_key", "sk-secret")).put("systemPromptTemplate", "Be brief.");
    return ok(call(HttpMethod.POST, "/v1/admin/model-versions", key, body.mergeIn(extra)), 201);
  }

  @Test
  void versionsAndACanaryFromStartToPromotionAndInstantRollback() throws Exception {
    JsonObject v1 = version(keyA, "flow-v1", new JsonObject());
    assertThat(v1.getString("state")).isEqualTo("draft");
    assertThat(v1.getJsonObject("params").getString("api_key")).isEqualTo("********");
    String v1Id = v1.getString("id");
    JsonObject active = ok(call(HttpMethod.POST, "/v1/admin/model-versions/" + v1Id + "/activate", keyA, null), 200);
    assertThat(active.getString("state")).isEqualTo("stable");
    assertThat(active.getBoolean("serving")).isTrue();

    // a local version names a key a live worker serves; once that worker leaves, the version is not live
    services.liveWorkers().accept(new WorkerAnnouncement("w-flow", "node-1", List.of("deepseek-7b"), 0, false));
    JsonObject v2 = ok(call(HttpMethod.POST, "/v1/admin/model-versions", keyA, new JsonObject().put("name", "flow-v2")
        .put("modelKey", "deepseek-7b").put("params", new JsonObject().put("max_tokens", 2048))), 201);
    assertThat(v2.getString("backend")).isEqualTo("local");
    assertThat(v2.getBoolean("live")).isTrue();
    services.liveWorkers().accept(new WorkerAnnouncement("w-flow", "node-1", List.of("deepseek-7b"), 0, true));
    assertThat(ok(call(HttpMethod.GET, "/v1/admin/model-versions/" + v2.getString("id"), keyA, null), 200)
        .getBoolean("live")).isFalse();
    String v2Id = v2.getString("id");
    JsonObject patched = ok(call(HttpMethod.PATCH, "/v1/admin/model-versions/" + v2Id, keyA,
        new JsonObject().put("systemPromptTemplate", "Be kind.")), 200);
    assertThat(patched.getString("systemPromptTemplate")).isEqualTo("Be kind.");

    JsonObject rollout = ok(call(HttpMethod.POST, "/v1/admin/rollouts", keyA, new JsonObject().put("mode", "canary")
        .put("candidateVersionId", v2Id).put("percentage", 10)
        .put("guards", new JsonObject().put("maxErrorRate", 0.1))), 201);
    String rid = rollout.getString("id");
    assertThat(rollout.getString("stableVersionId")).isEqualTo(v1Id);
    assertThat(rollout.getJsonObject("guards").getDouble("maxErrorRate")).isEqualTo(0.1);
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", keyA, new JsonObject().put("mode", "canary")
        .put("candidateVersionId", v2Id).put("percentage", 10)), 409)).isIn("rollout_active", "candidate_not_draft");
    assertThat(ok(call(HttpMethod.PATCH, "/v1/admin/rollouts/" + rid, keyA, new JsonObject().put("percentage", 25.5)),
        200).getDouble("percentage")).isEqualTo(25.5);
    assertThat(ok(call(HttpMethod.GET, "/v1/admin/model-versions/" + v2Id, keyA, null), 200).getString("state"))
        .isEqualTo("canary");

    JsonObject promoted = ok(call(HttpMethod.POST, "/v1/admin/rollouts/" + rid + "/promote", keyA,
        new JsonObject().put("reason", "good numbers")), 200);
    assertThat(promoted.getString("state")).isEqualTo("promoted");
    JsonArray list = ok(call(HttpMethod.GET, "/v1/admin/model-versions", keyA, null), 200).getJsonArray("data");
    JsonObject newStable = find(list, v2Id);
    JsonObject oldStable = find(list, v1Id);
    assertThat(newStable.getString("state")).isEqualTo("stable");
    assertThat(newStable.getBoolean("serving")).isTrue();
    assertThat(oldStable.getString("state")).isEqualTo("stable");
    assertThat(oldStable.getBoolean("rollbackReady")).isTrue();

    // instant rollback: the kept stable version serves again
    JsonObject back = ok(call(HttpMethod.POST, "/v1/admin/model-versions/" + v1Id + "/activate", keyA,
        new JsonObject().put("reason", "regression reported")), 200);
    assertThat(back.getBoolean("serving")).isTrue();
    // the routing snapshot reloads on the change event, which follows the commit by a moment
    Callable<String> routed = () -> await(services.chooser().choose(tenantA, UUID.randomUUID())).orElseThrow()
        .version().id().toString();
    until("the rollback reached the routing", Duration.ofSeconds(10), () -> v1Id.equals(routed.call()));
    assertThat(routed.call()).isEqualTo(v1Id);

    List<String> actions = await(db.inTenant(tenantA, c -> c.query("SELECT action, actor FROM audit_log ORDER BY id")
        .execute().map(rows -> {
          List<String> out = new ArrayList<>();
          for (Row r : rows) {
            assertThat(r.getString("actor")).startsWith("apikey:");
            out.add(r.getString("action"));
          }
          return out;
        })));
    assertThat(actions).containsSubsequence("model_version.created", "model_version.activated",
        "model_version.created", "model_version.updated", "rollout.started", "rollout.percentage",
        "rollout.promoted", "model_version.activated");

    JsonObject summary = ok(call(HttpMethod.GET, "/v1/admin/model-versions/metrics", keyA, null), 200);
    assertThat(summary.getJsonArray("versions").size()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void onlyTheThreeNewestStableVersionsAreKept() throws Exception {
    // a fresh tenant so earlier tests' stables do not count
    UUID tenant = CanaryTestSupport.createTenant(db, "keeper");
    String key = CanaryTestSupport.apiKey(db, tenant);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = version(key, "k" + i, new JsonObject()).getString("id");
      ids.add(id);
      if (i == 0) {
        ok(call(HttpMethod.POST, "/v1/admin/model-versions/" + id + "/activate", key, null), 200);
      } else {
        String rid = ok(call(HttpMethod.POST, "/v1/admin/rollouts", key, new JsonObject().put("mode", "canary")
            .put("candidateVersionId", id).put("percentage", 5)), 201).getString("id");
        ok(call(HttpMethod.POST, "/v1/admin/rollouts/" + rid + "/promote", key, null), 200);
      }
    }
    JsonArray list = ok(call(HttpMethod.GET, "/v1/admin/model-versions", key, null), 200).getJsonArray("data");
    assertThat(find(list, ids.get(0)).getString("state")).isEqualTo("retired");
    assertThat(find(list, ids.get(1)).getString("state")).isEqualTo("retired");
    assertThat(find(list, ids.get(2)).getBoolean("rollbackReady")).isTrue();
    assertThat(find(list, ids.get(3)).getBoolean("rollbackReady")).isTrue();
    assertThat(find(list, ids.get(4)).getBoolean("serving")).isTrue();
  }

  @Test
  void abRolloutThroughTheApiPromotesTheNamedArm() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "api-ab");
    String key = CanaryTestSupport.apiKey(db, tenant);
    String a = version(key, "ab-a", new JsonObject()).getString("id");
    ok(call(HttpMethod.POST, "/v1/admin/model-versions/" + a + "/activate", key, null), 200);
    String b = version(key, "ab-b", new JsonObject()).getString("id");
    String c = version(key, "ab-c", new JsonObject()).getString("id");
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", key, new JsonObject().put("mode", "ab")
        .put("arms", new JsonArray().add(arm(a, 50)).add(arm(b, 40)))), 400)).isEqualTo("invalid_value");
    // pair sampling: a percentage, A/B only
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", key, new JsonObject().put("mode", "ab")
        .put("arms", new JsonArray().add(arm(a, 50)).add(arm(b, 50))).put("pairSampling", 101)), 400))
        .isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", key, new JsonObject().put("mode", "canary")
        .put("candidateVersionId", b).put("percentage", 10).put("pairSampling", 5)), 400)).isEqualTo("invalid_value");
    JsonObject started = ok(call(HttpMethod.POST, "/v1/admin/rollouts", key, new JsonObject().put("mode", "ab")
        .put("arms", new JsonArray().add(arm(a, 34)).add(arm(b, 33)).add(arm(c, 33))).put("pairSampling", 2.5)), 201);
    assertThat(started.getDouble("pairSampling")).isEqualTo(2.5);
    String rid = started.getString("id");
    assertThat(ok(call(HttpMethod.GET, "/v1/admin/rollouts/" + rid, key, null), 200).getDouble("pairSampling"))
        .isEqualTo(2.5);
    assertThat(error(call(HttpMethod.PATCH, "/v1/admin/rollouts/" + rid, key, new JsonObject().put("percentage", 5)),
        409)).isEqualTo("fixed_arms");
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts/" + rid + "/promote", key, null), 400))
        .isEqualTo("invalid_value");
    ok(call(HttpMethod.POST, "/v1/admin/rollouts/" + rid + "/promote", key, new JsonObject().put("versionId", c)), 200);
    JsonArray list = ok(call(HttpMethod.GET, "/v1/admin/model-versions", key, null), 200).getJsonArray("data");
    assertThat(find(list, c).getBoolean("serving")).isTrue();
    assertThat(find(list, b).getString("state")).isEqualTo("draft");
  }

  @Test
  void anotherTenantsIdsAreNotFoundAndNothingChanges() throws Exception {
    String bStable = version(keyB, "b-stable", new JsonObject()).getString("id");
    ok(call(HttpMethod.POST, "/v1/admin/model-versions/" + bStable + "/activate", keyB, null), 200);
    String bDraft = version(keyB, "b-draft", new JsonObject()).getString("id");
    String bRollout = ok(call(HttpMethod.POST, "/v1/admin/rollouts", keyB, new JsonObject().put("mode", "canary")
        .put("candidateVersionId", bDraft).put("percentage", 20)), 201).getString("id");
    String bSpare = version(keyB, "b-spare", new JsonObject()).getString("id");

    String v = "/v1/admin/model-versions/";
    String r = "/v1/admin/rollouts/";
    assertThat(error(call(HttpMethod.GET, v + bStable, keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.PATCH, v + bSpare, keyA, new JsonObject().put("systemPromptTemplate", "x")), 404))
        .isEqualTo("not_found");
    assertThat(error(call(HttpMethod.POST, v + bSpare + "/retire", keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.POST, v + bStable + "/activate", keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.GET, r + bRollout, keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.PATCH, r + bRollout, keyA, new JsonObject().put("percentage", 90)), 404))
        .isEqualTo("not_found");
    assertThat(error(call(HttpMethod.POST, r + bRollout + "/promote", keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.POST, r + bRollout + "/rollback", keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.GET, r + bRollout + "/comparison", keyA, null), 404)).isEqualTo("not_found");
    // A's own rollout naming B's version as candidate
    UUID fresh = CanaryTestSupport.createTenant(db, "api-a2");
    String keyA2 = CanaryTestSupport.apiKey(db, fresh);
    String a2 = version(keyA2, "a2", new JsonObject()).getString("id");
    ok(call(HttpMethod.POST, v + a2 + "/activate", keyA2, null), 200);
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", keyA2, new JsonObject().put("mode", "canary")
        .put("candidateVersionId", bSpare).put("percentage", 20)), 404)).isEqualTo("not_found");
    assertThat(ok(call(HttpMethod.GET, "/v1/admin/model-versions", keyA, null), 200).getJsonArray("data").stream()
        .map(o -> ((JsonObject) o).getString("name"))).noneMatch(n -> n.startsWith("b-"));

    JsonObject rollout = ok(call(HttpMethod.GET, r + bRollout, keyB, null), 200);
    assertThat(rollout.getString("state")).isEqualTo("active");
    assertThat(rollout.getDouble("percentage")).isEqualTo(20.0);
    assertThat(ok(call(HttpMethod.GET, v + bSpare, keyB, null), 200).getString("systemPromptTemplate"))
        .isEqualTo("Be brief.");
    assertThat(ok(call(HttpMethod.GET, v + bSpare, keyB, null), 200).getString("state")).isEqualTo("draft");
  }

  @Test
  void badInputGetsClearErrors() throws Exception {
    String path = "/v1/admin/model-versions";
    assertThat(error(call(HttpMethod.GET, path, null, null), 401)).isEqualTo("invalid_api_key");
    assertThat(error(call(HttpMethod.GET, path, "dck_nonsense", null), 401)).isEqualTo("invalid_api_key");
    assertThat(error(call(HttpMethod.POST, path, keyA, "{\"name\": "), 400)).isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, path, keyA, "[1,2]"), 400)).isEqualTo("invalid_value");
    Buffer badUtf8 = Buffer.buffer("{\"name\":\"x").appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28})
        .appendString("\",\"backend\":\"openai\",\"location\":\"https://a.b\"}");
    assertThat(call(HttpMethod.POST, path, keyA, badUtf8).bodyAsJsonObject().getJsonObject("error")
        .getString("message")).contains("UTF-8");
    assertThat(error(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "x").put("backend", "openai")
        .put("location", "https://a.b").put("color", "red")), 400)).isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "x").put("backend", "grpc")
        .put("location", "https://a.b")), 400)).isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "x").put("backend", "openai")
        .put("location", "ftp://a.b")), 400)).isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "x").put("backend", "openai")
        .put("location", "https://a.b").put("params", new JsonObject().put("temperature", 7))), 400))
        .isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "x").put("backend", "local")
        .put("location", "../etc/passwd")), 400)).isEqualTo("invalid_value");
    version(keyA, "dup", new JsonObject());
    assertThat(error(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "dup").put("backend", "openai")
        .put("location", "https://a.b")), 409)).isEqualTo("name_taken");
    assertThat(call(HttpMethod.POST, path, keyA, Buffer.buffer("{\"name\":\"" + "a".repeat(70_000) + "\"}"))
        .statusCode()).isEqualTo(413);
    assertThat(error(call(HttpMethod.GET, path + "/not-a-uuid", keyA, null), 404)).isEqualTo("not_found");
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", keyA, new JsonObject().put("mode", "canary")
        .put("candidateVersionId", UUID.randomUUID().toString()).put("percentage", 10.125)), 400))
        .isEqualTo("invalid_value");
    assertThat(error(call(HttpMethod.POST, "/v1/admin/rollouts", keyA, new JsonObject().put("mode", "blue-green")), 400))
        .isEqualTo("invalid_value");
  }

  /** Issue #22 item 4: a location is a model key a live worker serves, or an https endpoint; a refusal names the field. */
  @Test
  void locationsAreServedModelKeysOrHttpsEndpointsAndRefusalsNameTheField() throws Exception {
    String path = "/v1/admin/model-versions";
    JsonObject folder = refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "folder")
        .put("backend", "local").put("location", "/models/r1-1.5b")));
    assertThat(folder.getString("param")).isEqualTo("location");
    assertThat(folder.getString("message")).contains("looks like a folder").contains("model key");
    JsonObject unknown = refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "unknown")
        .put("modelKey", "nobody-serves-this")));
    assertThat(unknown.getString("param")).isEqualTo("location");
    assertThat(unknown.getString("message")).contains("no engine worker serves the model key 'nobody-serves-this'");
    JsonObject plain = refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "plain")
        .put("backend", "openai").put("location", "http://models.example.com/v1")));
    assertThat(plain.getString("code")).isEqualTo("url_refused");
    assertThat(plain.getString("param")).isEqualTo("location");
    assertThat(plain.getString("message")).contains("https").contains("OUTBOUND_ALLOWED_HOSTS");
    JsonObject fallback = refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "plain-fallback")
        .put("backend", "openai").put("location", "https://models.example.com/v1").put("params", new JsonObject()
            .put("fallback", new JsonObject().put("location", "http://backup.example.com/v1")))));
    assertThat(fallback.getString("param")).isEqualTo("params.fallback.location");
    assertThat(refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "bad name!")
        .put("backend", "openai").put("location", "https://models.example.com/v1"))).getString("param"))
        .isEqualTo("name");
    // the operator's allow-list opens plain http for a listed endpoint (never contacted here)
    assertThat(ok(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "listed-http")
        .put("backend", "openai").put("location", "http://127.0.0.1:" + LISTED_PORT + "/v1")), 201)
        .getString("location")).startsWith("http://127.0.0.1:");
    services.liveWorkers().accept(new WorkerAnnouncement("w-keys", "node-2", List.of("served-key"), 1, false,
        "cpu", 3));
    assertThat(ok(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "served")
        .put("modelKey", "served-key")), 201).getBoolean("live")).isTrue();
    assertThat(services.liveWorkers().workers()).anySatisfy(w -> {
      assertThat(w.nodeId()).isEqualTo("node-2");
      assertThat(w.device()).isEqualTo("cpu");
      assertThat(w.queued()).isEqualTo(3);
    });
    List<String> names = await(db.inTenant(tenantA, c -> c.query("SELECT name FROM model_versions").execute()
        .map(rows -> {
          List<String> out = new ArrayList<>();
          rows.forEach(r -> out.add(r.getString("name")));
          return out;
        })));
    assertThat(names).doesNotContain("folder", "unknown", "plain", "plain-fallback");
  }

  /** Issue #19: params.vision sends pictures as OpenAI image parts, which the local engine cannot read. */
  @Test
  void onlyOpenAiCompatibleVersionsMayDeclareVision() throws Exception {
    String path = "/v1/admin/model-versions";
    String listed = "http://127.0.0.1:" + LISTED_PORT + "/v1";
    services.liveWorkers().accept(new WorkerAnnouncement("w-vision", "node-3", List.of("text-only-key"), 1, false,
        "cpu", 0));
    JsonObject local = refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "local-vision")
        .put("modelKey", "text-only-key").put("params", new JsonObject().put("vision", true))));
    assertThat(local.getString("param")).isEqualTo("params.vision");
    assertThat(local.getString("message")).contains("vision needs an openai backend").contains("text only");
    JsonObject localFallback = refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "vision-fb")
        .put("backend", "openai").put("location", listed).put("params", new JsonObject().put("vision", true)
            .put("fallback", new JsonObject().put("backend", "local").put("location", "text-only-key")))));
    assertThat(localFallback.getString("param")).isEqualTo("params.vision");
    assertThat(localFallback.getString("message")).contains("params.fallback is local");
    assertThat(refused(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "vision-yes")
        .put("backend", "openai").put("location", listed).put("params", new JsonObject().put("vision", "yes"))))
        .getString("message")).contains("vision must be true or false");
    JsonObject vision = ok(call(HttpMethod.POST, path, keyA, new JsonObject().put("name", "vision-ok")
        .put("backend", "openai").put("location", listed).put("params", new JsonObject().put("vision", true))), 201);
    assertThat(vision.getJsonObject("params").getBoolean("vision")).isTrue();
    // the draft moved to the local engine would keep a flag it cannot honour: refused, nothing changes
    assertThat(refused(call(HttpMethod.PATCH, path + "/" + vision.getString("id"), keyA, new JsonObject()
        .put("backend", "local").put("location", "text-only-key"))).getString("param")).isEqualTo("params.vision");
    assertThat(ok(call(HttpMethod.GET, path + "/" + vision.getString("id"), keyA, null), 200).getString("backend"))
        .isEqualTo("openai");
  }

  /**
   * Issue #22 item 4: a canary's comparison reads the outcomes every node stored for the rollout, the
   * answers' thumbs within its window, the guard bounds and the audit trail of the rollout.
   */
  @Test
  void comparisonPutsStableAndCandidateSideBySideOverTheRolloutWindow() throws Exception {
    Started r = started("cmp", new JsonObject().put("mode", "canary").put("percentage", 50)
        .put("guards", new JsonObject().put("maxErrorRate", 0.9).put("minSamples", 1000)));
    UUID tenant = r.tenant();
    String key = r.key();
    String stable = r.stable();
    String candidate = r.candidate();
    String rid = r.rollout();
    int[] seen = new int[2];
    for (int i = 0; seen[0] < 10 || seen[1] < 10; i++) {
      Assignment a = await(services.chooser().choose(tenant, UUID.randomUUID())).orElseThrow();
      int role = a.candidate() ? 1 : 0;
      if (seen[role] >= 10) {
        continue;
      }
      // the stable answers first tokens in 100..190 ms, the candidate in 200..290 ms; the candidate's
      // tenth generation fails
      Outcome o = role == 1 && seen[1] == 9 ? Outcome.failure("backend_error", 50)
          : Outcome.success((role + 1) * 100L + seen[role] * 10L, 20, 1000L + role * 500 + seen[role]);
      await(services.outcomes().record(a, o));
      seen[role]++;
    }
    UUID conversation = await(db.inTenant(tenant, c -> c.query("INSERT INTO conversations (tenant_id, title)"
        + " VALUES (app_tenant(), 'rated') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID("id"))));
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content,"
        + " model_version_id, feedback) VALUES (app_tenant(), $1, 'assistant', 'a', $2, 1),"
        + " (app_tenant(), $1, 'assistant', 'b', $2, -1), (app_tenant(), $1, 'assistant', 'c', $2, NULL),"
        + " (app_tenant(), $1, 'assistant', 'd', $3, 1)")
        .execute(Tuple.of(conversation, UUID.fromString(candidate), UUID.fromString(stable)))));
    // visitors' ratings (three more answers of the candidate, one of the stable): the shared conversation 4 (both arms answered in it); one more of the candidate's
    // rated 5 then 2 (the latest counts), one more of the stable's rated 5; an unrated one of the candidate's
    CanaryTestSupport.rate(db, tenant, conversation, 4, 1);
    CanaryTestSupport.rate(db, tenant, answered(tenant, candidate), 5, 3);
    UUID reRated = answered(tenant, candidate);
    CanaryTestSupport.rate(db, tenant, reRated, 5, 2);
    CanaryTestSupport.rate(db, tenant, reRated, 2, 1);
    CanaryTestSupport.rate(db, tenant, answered(tenant, stable), 5, 1);
    answered(tenant, candidate);

    Callable<JsonObject> compare = () -> ok(call(HttpMethod.GET, "/v1/admin/rollouts/" + rid + "/comparison", key,
        null), 200);
    until("every outcome is stored", Duration.ofSeconds(10), () -> compare.call().getJsonArray("arms").stream()
        .mapToLong(o -> ((JsonObject) o).getLong("requests")).sum() == 20);
    JsonObject cmp = compare.call();
    JsonObject s = cmp.getJsonArray("arms").getJsonObject(0);
    JsonObject c = cmp.getJsonArray("arms").getJsonObject(1);
    assertThat(s.getString("role")).isEqualTo("stable");
    assertThat(s.getString("name")).isEqualTo("cmp-stable");
    assertThat(c.getString("role")).isEqualTo("candidate");
    assertThat(c.getDouble("percentage")).isEqualTo(50.0);
    assertThat(s.getLong("requests")).isEqualTo(10);
    assertThat(s.getDouble("errorRate")).isEqualTo(0.0);
    assertThat(c.getLong("errors")).isEqualTo(1);
    assertThat(c.getDouble("errorRate")).isEqualTo(0.1);
    // nearest rank over the successful generations: stable 100..190 ms, candidate 200..280 ms
    assertThat(s.getJsonObject("ttftMs").getLong("p50")).isEqualTo(140);
    assertThat(s.getJsonObject("ttftMs").getLong("p95")).isEqualTo(190);
    assertThat(c.getJsonObject("ttftMs").getLong("p50")).isEqualTo(240);
    assertThat(c.getJsonObject("ttftMs").getLong("p95")).isEqualTo(280);
    assertThat(s.getJsonObject("totalMs").getLong("p95")).isEqualTo(1009);
    assertThat(c.getJsonObject("totalMs").getLong("p50")).isEqualTo(1504);
    assertThat(c.getLong("answers")).isEqualTo(6);
    assertThat(c.getLong("thumbsUp")).isEqualTo(1);
    assertThat(c.getLong("thumbsDown")).isEqualTo(1);
    assertThat(c.getDouble("feedbackRate")).isCloseTo(2 / 6.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(s.getDouble("positiveRate")).isEqualTo(1.0);
    assertThat(c.getDouble("satisfaction")).isEqualTo(11 / 3.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(c.getLong("ratedConversations")).isEqualTo(3);
    assertThat(s.getDouble("satisfaction")).isEqualTo(4.5);
    assertThat(s.getLong("ratedConversations")).isEqualTo(2);
    assertThat(cmp.getJsonObject("guards").getDouble("maxErrorRate")).isEqualTo(0.9);
    assertThat(cmp.getJsonObject("guards").getJsonObject("nodeWindow").getInteger("requests")).isEqualTo(10);
    assertThat(cmp.getJsonArray("events").getJsonObject(0).getString("action")).isEqualTo("rollout.started");
    assertThat(cmp.containsKey("shadow")).isFalse();

    ok(call(HttpMethod.PATCH, "/v1/admin/rollouts/" + rid, key, new JsonObject().put("percentage", 20)), 200);
    ok(call(HttpMethod.POST, "/v1/admin/rollouts/" + rid + "/rollback", key, new JsonObject().put("reason", "slower")),
        200);
    JsonObject ended = compare.call();
    assertThat(ended.getJsonArray("events").stream().map(e -> ((JsonObject) e).getString("action")))
        .containsExactly("rollout.started", "rollout.percentage", "rollout.rolled_back");
    assertThat(ended.getJsonObject("window").getString("to")).isEqualTo(ended.getJsonObject("rollout").getString("endedAt"));
  }

  /** A new conversation with one answer of the version. */
  private static UUID answered(UUID tenant, String version) throws Exception {
    return await(db.inTenant(tenant, c -> c.query("INSERT INTO conversations (tenant_id, title) VALUES (app_tenant(), "
            + "'rated') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID("id"))
        .compose(id -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, model_version_id) "
            + "VALUES (app_tenant(), $1, 'assistant', 'x', $2)").execute(Tuple.of(id, UUID.fromString(version)))
            .map(x -> id))));
  }

  /** A shadow rollout's comparison: agreement, the similarity histogram and the answer pairs side by side. */
  @Test
  void shadowComparisonShowsTheSimilarityDistributionAndAnswerPairs() throws Exception {
    Started r = started("sh", new JsonObject().put("mode", "shadow").put("percentage", 100));
    UUID tenant = r.tenant();
    String key = r.key();
    String rid = r.rollout();
    Assignment a = await(services.chooser().choose(tenant, UUID.randomUUID())).orElseThrow();
    // identical answers compare without the embedder; a failed candidate stores no similarity
    await(services.shadow().record(tenant, null, a, "Opening hours?", "Nine to five.", "Nine to five.", null));
    await(services.shadow().record(tenant, null, a, "Refunds?", "Within 30 days.", null, "backend_error: down"));
    JsonObject cmp = ok(call(HttpMethod.GET, "/v1/admin/rollouts/" + rid + "/comparison", key, null), 200);
    JsonObject shadow = cmp.getJsonObject("shadow");
    assertThat(shadow.getLong("pairs")).isEqualTo(2);
    assertThat(shadow.getLong("failed")).isEqualTo(1);
    assertThat(shadow.getDouble("agreementRate")).isEqualTo(1.0);
    assertThat(shadow.getJsonArray("histogram").getJsonObject(9).getLong("count")).isEqualTo(1);
    JsonObject failed = shadow.getJsonArray("examples").getJsonObject(0);
    assertThat(failed.getString("prompt")).isEqualTo("Refunds?");
    assertThat(failed.getString("candidateError")).contains("backend_error");
    JsonObject same = shadow.getJsonArray("examples").getJsonObject(1);
    assertThat(same.getString("stableAnswer")).isEqualTo(same.getString("candidateAnswer"));
    assertThat(cmp.getJsonArray("arms").getJsonObject(1).getDouble("percentage")).isEqualTo(100.0);
  }

  /** A fresh tenant whose stable version faces a candidate in a rollout started with {@code body}. */
  record Started(UUID tenant, String key, String stable, String candidate, String rollout) {
  }

  static Started started(String prefix, JsonObject body) throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "api-" + prefix);
    String key = CanaryTestSupport.apiKey(db, tenant);
    String stable = version(key, prefix + "-stable", new JsonObject()).getString("id");
    ok(call(HttpMethod.POST, "/v1/admin/model-versions/" + stable + "/activate", key, null), 200);
    String candidate = version(key, prefix + "-candidate", new JsonObject()).getString("id");
    String rid = ok(call(HttpMethod.POST, "/v1/admin/rollouts", key, body.put("candidateVersionId", candidate)), 201)
        .getString("id");
    // the routing snapshot reloads on the change event, which follows the commit by a moment
    until("the rollout reached the routing", Duration.ofSeconds(10), () -> await(services.chooser()
        .choose(tenant, UUID.randomUUID())).orElseThrow().rollout() != null);
    return new Started(tenant, key, stable, candidate, rid);
  }

  static JsonObject refused(HttpResponse<Buffer> r) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
    return r.bodyAsJsonObject().getJsonObject("error");
  }

  static JsonObject arm(String id, double pct) {
    return new JsonObject().put("versionId", id).put("percentage", pct);
  }

  static JsonObject find(JsonArray list, String id) {
    return list.stream().map(JsonObject.class::cast).filter(o -> o.getString("id").equals(id)).findFirst().orElseThrow();
  }
}
