package ai.deepchat.chat;

import ai.deepchat.canary.CanaryTestSupport;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.ModelRegistry.VersionSpec;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.chat.dispatch.OpenAiHttpBackend;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 17 for model versions, as deployed (gateway, admin API, pipeline, real PostgreSQL): a URL
 * naming an internal address is refused when a version is created, and again when a turn would connect
 * (a row planted in the database bypasses creation), without a single connection to the listener the
 * test runs on 127.0.0.1 and with the same generic error whether a port is open or closed. An endpoint
 * the operator allow-lists (the harness allows 127.0.0.9) serves a platform-wide version, and what it
 * answers on an error is logged, never shown. Every address here is loopback.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutboundUrlIntegrationTest {

  private static final String SECRET = "INTERNAL-SERVICE-SECRET";

  ChatHarness h;
  HttpServer internal;
  final AtomicInteger internalConnections = new AtomicInteger();
  int closedPort;
  final AtomicBoolean vllmBroken = new AtomicBoolean();
  VersionEndpoint vllm;
  final ListAppender<ILoggingEvent> backendLog = new ListAppender<>();

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    // an internal service on loopback that must never be reached, and a port nobody listens on
    internal = await(vertx.createHttpServer().connectionHandler(c -> internalConnections.incrementAndGet())
        .requestHandler(req -> req.response().setStatusCode(500).end(SECRET)).listen(0, "127.0.0.1"));
    vllm = VersionEndpoint.start(vertx, ChatHarness.ALLOWED_LOOPBACK, "vllm answer", n -> vllmBroken.get());
    h = new ChatHarness(vertx).startWithCanary(Map.of());
    // the closed port is taken last: freed before the harness started, the OS once handed the same port
    // to the harness's configured DeepSeek endpoint, which the policy rightly lets through
    HttpServer gone = await(vertx.createHttpServer().requestHandler(req -> req.response().end())
        .listen(0, "127.0.0.1"));
    closedPort = gone.actualPort();
    await(gone.close());
    backendLog.start();
    ((Logger) LoggerFactory.getLogger(OpenAiHttpBackend.class)).addAppender(backendLog);
  }

  @AfterAll
  void stop() {
    ((Logger) LoggerFactory.getLogger(OpenAiHttpBackend.class)).detachAppender(backendLog);
  }

  private String internalUrl() {
    return "http://127.0.0.1:" + internal.actualPort() + "/v1";
  }

  @Test
  void creatingAVersionWithAnInternalUrlIsRefusedWith400() throws Exception {
    ChatHarness.Tenant t = h.tenant("ssrf-create");
    int port = internal.actualPort();
    List<String> bad = List.of(internalUrl(), "http://localhost:" + port + "/v1", "http://LOCALHOST.:" + port,
        "http://[::1]:" + port + "/v1", "http://[::ffff:127.0.0.1]:" + port, "http://0.0.0.0:" + port + "/v1",
        "http://2130706433:" + port + "/v1", "http://0x7f000001:" + port, "http://017700000001:" + port,
        "http://shop.example.com@127.0.0.1:" + port + "/v1", "http://127.0.0.2:" + port + "/v1",
        "http://[0:0:0:0:0:ffff:7f00:1]:" + port + "/v1");
    for (String url : bad) {
      HttpResponse<String> resp = create(t, new JsonObject().put("name", "bad").put("backend", "openai")
          .put("location", url));
      assertThat(resp.statusCode()).as(url + " " + resp.body()).isEqualTo(400);
      JsonObject error = new JsonObject(resp.body()).getJsonObject("error");
      assertThat(error.getString("code")).as(url).isEqualTo("url_refused");
      assertThat(error.getString("message")).as(url).startsWith("location refused: ");
    }
    // the fallback is a URL the tenant controls too
    HttpResponse<String> fallback = create(t, new JsonObject().put("name", "bad-fallback").put("backend", "local")
        .put("location", "some-model").put("params", new JsonObject().put("fallback", new JsonObject()
            .put("backend", "openai").put("location", internalUrl()))));
    assertThat(fallback.statusCode()).as(fallback.body()).isEqualTo(400);
    assertThat(new JsonObject(fallback.body()).getJsonObject("error").getString("message"))
        .startsWith("fallback.location refused: ").contains("loopback");
    // a draft cannot be moved there later either
    HttpResponse<String> ok = create(t, new JsonObject().put("name", "public").put("backend", "openai")
        .put("location", "https://203.0.114.10/v1"));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
    String id = new JsonObject(ok.body()).getString("id");
    HttpResponse<String> moved = h.send(h.request("/v1/admin/model-versions/" + id)
        .header("Authorization", "Bearer " + t.apiKey()).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(new JsonObject().put("location", internalUrl()).encode())));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(400);
    assertThat(h.string("SELECT string_agg(location, ',') FROM model_versions WHERE tenant_id = '" + t.id() + "'"))
        .isEqualTo("https://203.0.114.10/v1");
    assertThat(internalConnections).hasValue(0);
  }

  @Test
  void aPlantedInternalUrlIsRefusedAtConnectTimeWithOneGenericError() throws Exception {
    JsonObject open = chatWithPlantedVersion("ssrf-open", "openai", internalUrl(), "{}");
    JsonObject closed = chatWithPlantedVersion("ssrf-closed", "openai", "http://127.0.0.1:" + closedPort + "/v1", "{}");
    JsonObject viaFallback = chatWithPlantedVersion("ssrf-fallback", "local", "no-worker-serves-this",
        new JsonObject().put("fallback", new JsonObject().put("backend", "openai").put("location", internalUrl()))
            .encode());
    for (JsonObject error : List.of(open, closed, viaFallback)) {
      assertThat(error.getString("code")).isEqualTo("backend_unavailable");
      assertThat(error.encode()).doesNotContain(SECRET, "127.0.0.1", String.valueOf(internal.actualPort()),
          String.valueOf(closedPort), "refused", "loopback");
    }
    // open or closed, the caller cannot tell
    assertThat(open).isEqualTo(closed);
    assertThat(internalConnections).hasValue(0);
    assertThat(logged()).contains("refused by the outbound policy");
  }

  @Test
  void anAllowListedEndpointServesAPlatformWideVersionAndItsErrorsAreLoggedNotShown() throws Exception {
    ModelVersion v = await(h.canary.registry().create(Scope.PLATFORM, new VersionSpec("local-vllm",
        Backend.OPENAI, vllm.url(), new JsonObject().put("model", "vllm-model"), ""), ADMIN));
    await(h.canary.registry().activate(Scope.PLATFORM, v.id(), ADMIN, "the operator's vLLM"));
    ChatHarness.Tenant t = h.tenant("ssrf-platform");
    AtomicReference<HttpResponse<String>> last = new AtomicReference<>();
    // the routing snapshot reloads on the change event
    until("the platform version answers", Duration.ofSeconds(10), () -> {
      last.set(ask(t, "hello"));
      return last.get().body().contains("vllm answer");
    });
    HttpResponse<String> answered = last.get();
    assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
    assertThat(answered.body()).contains("vllm answer");

    vllmBroken.set(true);
    HttpResponse<String> failed = ask(t, "hello again");
    assertThat(failed.statusCode()).isEqualTo(503);
    JsonObject error = new JsonObject(failed.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("backend_unavailable");
    assertThat(failed.body()).doesNotContain("upstream overloaded", "500", ChatHarness.ALLOWED_LOOPBACK, "vllm");
    assertThat(logged()).contains("answered HTTP 500").contains("upstream overloaded");
    vllmBroken.set(false);
  }

  private HttpResponse<String> create(ChatHarness.Tenant t, JsonObject body) {
    return h.postJson("/v1/admin/model-versions", t.apiKey(), body.encode());
  }

  private HttpResponse<String> ask(ChatHarness.Tenant t, String question) {
    return h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject().put("temperature", 1)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", question))).encode());
  }

  /** The API error a tenant gets from its serving version, planted straight into the database. */
  private JsonObject chatWithPlantedVersion(String slug, String backend, String location, String params) throws Exception {
    ChatHarness.Tenant t = h.tenant(slug);
    h.execOwner("INSERT INTO model_versions (tenant_id, name, backend, location, params, state, stable_since) VALUES ('"
        + t.id() + "', 'planted', '" + backend + "', '" + location + "', '" + params + "', 'stable', now())");
    HttpResponse<String> resp = ask(t, "read the internal service");
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(503);
    JsonObject error = new JsonObject(resp.body()).getJsonObject("error");
    error.remove("request_id");
    return error;
  }

  private String logged() {
    StringBuilder all = new StringBuilder();
    backendLog.list.forEach(e -> all.append(e.getFormattedMessage()).append('\n'));
    return all.toString();
  }
}
