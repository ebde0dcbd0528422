package ai.deepchat.gateway;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.http.HttpModule;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's stream admission over real HTTP: a bounded number of concurrent streams, the excess
 * refused with 503 + Retry-After before the route runs, and a drain that lets in-flight streams end.
 * The streaming route is a stand-in for the chat pipeline's: it opens an event stream and holds it
 * until the test ends it.
 */
@ExtendWith(VertxExtension.class)
class StreamAdmissionTest {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Holds every stream open until {@link #endOne}. */
  private static final class HoldingStreams implements HttpModule {
    final Queue<HttpServerResponse> open = new ConcurrentLinkedQueue<>();
    final AtomicInteger reached = new AtomicInteger();
    Vertx vertx;

    @Override
    public void mount(io.vertx.ext.web.Router router) {
      router.post("/v1/chat/completions").handler(ctx -> {
        reached.incrementAndGet();
        // as the chat route does once the caller is authenticated and the body read
        if (!StreamLimitHandler.admit(ctx)) {
          return;
        }
        HttpServerResponse r = ctx.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
        r.write("data: {\"delta\":\"first\"}\n\n");
        open.add(r);
      });
      router.get("/widget/ws").handler(ctx -> ctx.request().toWebSocket().onSuccess(ws -> ws.writeTextMessage("hi")));
    }

    void endOne() {
      HttpServerResponse r = open.poll();
      vertx.runOnContext(v -> r.end("data: [DONE]\n\n"));
    }
  }

  private record Started(int port, HoldingStreams streams, GatewayAdmission admission) {
  }

  private Started start(Vertx vertx, int maxStreams) throws Exception {
    return start(vertx, maxStreams, Map.of());
  }

  private Started start(Vertx vertx, int maxStreams, Map<String, String> extra) throws Exception {
    TestDatabase db = TestDatabase.fresh(vertx);
    Map<String, String> env = new java.util.HashMap<>(Map.of("HTTP_HOST", "127.0.0.1", "HTTP_PORT", "0",
        "MAX_CONCURRENT_STREAMS", String.valueOf(maxStreams), "RETRY_AFTER_SECONDS", "3"));
    env.putAll(extra);
    Platform platform = new Platform(ConfigLoader.load(env, new String[0]), db.database(), "test");
    HoldingStreams streams = new HoldingStreams();
    streams.vertx = vertx;
    GatewayVerticle gateway = new GatewayVerticle(platform, List.of(streams));
    vertx.deployVerticle(gateway).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new Started(gateway.actualPort(), streams, GatewayAdmission.find(vertx).orElseThrow());
  }

  private HttpResponse<InputStream> openStream(int port) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true}")).build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String rest(HttpResponse<InputStream> r) throws Exception {
    try (InputStream in = r.body()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void excessStreamsGet503WithRetryAfterAndNeverReachTheRoute(Vertx vertx) throws Exception {
    Started s = start(vertx, 2);
    HttpResponse<InputStream> a = openStream(s.port());
    HttpResponse<InputStream> b = openStream(s.port());
    assertThat(a.statusCode()).isEqualTo(200);
    assertThat(b.statusCode()).isEqualTo(200);
    assertThat(s.admission().activeStreams()).isEqualTo(2);

    long t0 = System.nanoTime();
    HttpResponse<InputStream> refused = openStream(s.port());
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).contains("3");
    JsonObject error = new JsonObject(rest(refused)).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("overloaded");
    assertThat(error.getString("type")).isEqualTo("server_error");
    assertThat(s.streams().reached.get()).as("the refused request never reached the route").isEqualTo(2);
    // answered at once, not queued behind the open streams (a generous bound for a loaded machine)
    assertThat(millis).isLessThan(2000);

    // one stream ends: its slot is free again
    s.streams().endOne();
    assertThat(rest(a)).endsWith("data: [DONE]\n\n");
    until("one stream active", Duration.ofSeconds(10), () -> s.admission().activeStreams() == 1);
    HttpResponse<InputStream> c = openStream(s.port());
    assertThat(c.statusCode()).isEqualTo(200);
    s.streams().endOne();
    s.streams().endOne();
    assertThat(rest(b)).endsWith("[DONE]\n\n");
    assertThat(rest(c)).endsWith("[DONE]\n\n");
    until("no stream active", Duration.ofSeconds(10), () -> s.admission().activeStreams() == 0);
  }

  @Test
  void aSilentConnectionIsClosedByTheIdleTimeout(Vertx vertx) throws Exception {
    Started s = start(vertx, 2, Map.of("HTTP_IDLE_TIMEOUT_SECONDS", "1"));
    try (java.net.Socket silent = new java.net.Socket("127.0.0.1", s.port())) {
      silent.setSoTimeout(10_000);
      long t0 = System.nanoTime();
      // no request at all (a slow-loris that has not even sent its headers): closed, not held for ever
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(500L, 8000L);
    }
    // a connection in use is not idle
    assertThat(get(s.port(), "/health/live").statusCode()).isEqualTo(200);
  }

  @Test
  void clientThatGoesAwayFreesItsSlot(Vertx vertx) throws Exception {
    Started s = start(vertx, 1);
    HttpResponse<InputStream> a = openStream(s.port());
    assertThat(a.statusCode()).isEqualTo(200);
    a.body().close(); // the client hangs up mid-stream
    until("no stream active", Duration.ofSeconds(10), () -> s.admission().activeStreams() == 0);
    HttpClient other = HttpClient.newHttpClient();
    HttpResponse<InputStream> b = other.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + s.port() + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(b.statusCode()).isEqualTo(200);
    s.streams().open.forEach(r -> vertx.runOnContext(v -> r.end()));
    b.body().close();
  }

  @Test
  void drainTurnsReadinessDownRefusesNewStreamsAndWaitsForInFlightOnes(Vertx vertx) throws Exception {
    Started s = start(vertx, 10);
    assertThat(get(s.port(), "/health/ready").statusCode()).isEqualTo(200);
    HttpResponse<InputStream> inFlight = openStream(s.port());
    assertThat(inFlight.statusCode()).isEqualTo(200);

    var drained = s.admission().drain(vertx, Duration.ZERO, Duration.ofSeconds(20)).toCompletionStage().toCompletableFuture();
    HttpResponse<String> ready = get(s.port(), "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).contains("accepting").contains("shutting down");
    assertThat(get(s.port(), "/health/live").statusCode()).isEqualTo(200);

    HttpResponse<InputStream> refused = openStream(s.port());
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(new JsonObject(rest(refused)).getJsonObject("error").getString("code")).isEqualTo("shutting_down");
    assertThat(drained).as("still waiting for the open stream").isNotDone();

    s.streams().endOne();
    assertThat(rest(inFlight)).endsWith("[DONE]\n\n");
    assertThat(drained.get(10, TimeUnit.SECONDS)).as("drained before the grace period").isTrue();
  }

  @Test
  void anIdleWebSocketDoesNotHoldTheDrainButNewSocketsAreRefused(Vertx vertx) throws Exception {
    Started s = start(vertx, 10);
    java.util.concurrent.CompletableFuture<String> greeting = new java.util.concurrent.CompletableFuture<>();
    var socket = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/widget/ws"),
        new java.net.http.WebSocket.Listener() {
          @Override
          public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data,
                                                                boolean last) {
            greeting.complete(data.toString());
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    assertThat(greeting.get(10, TimeUnit.SECONDS)).isEqualTo("hi");
    assertThat(s.admission().inFlightRequests()).isZero();

    long t0 = System.nanoTime();
    boolean finished = s.admission().drain(vertx, Duration.ZERO, Duration.ofSeconds(20))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(finished).isTrue();
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(5);
    // while draining, a new socket is refused with 503 before the upgrade
    var refused = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/widget/ws"),
        new java.net.http.WebSocket.Listener() { });
    Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> refused.get(10, TimeUnit.SECONDS));
    assertThat(failure).hasCauseInstanceOf(java.net.http.WebSocketHandshakeException.class);
    var handshake = (java.net.http.WebSocketHandshakeException) failure.getCause();
    assertThat(handshake.getResponse().statusCode()).isEqualTo(503);
    socket.abort();
  }

  @Test
  void drainGivesUpAfterTheGracePeriod(Vertx vertx) throws Exception {
    Started s = start(vertx, 10);
    HttpResponse<InputStream> stuck = openStream(s.port());
    assertThat(stuck.statusCode()).isEqualTo(200);
    long t0 = System.nanoTime();
    boolean finished = s.admission().drain(vertx, Duration.ZERO, Duration.ofMillis(500)).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertThat(finished).isFalse();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(500);
    s.streams().endOne();
    stuck.body().close();
  }
}
