package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.outbound.HostResolver;
import ai.deepchat.platform.outbound.OutboundPolicy;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The remote backend's silence limit moves a deadline per streamed line instead of setting a timer per
 * token (#25): a stream that keeps sending is never cut, one that goes silent is ended with
 * backend_timeout about the limit after its last line, also when the limit is shorter than the wait for
 * the answer's start. A real HTTP server on loopback streams the lines.
 */
class OpenAiHttpBackendIdleTest {

  private static final String TOKEN = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ok\"}}]}\n\n";
  private static final long IDLE_MS = 400;

  private static Vertx vertx;
  private static HttpServer server;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    // the model name says how to stream: "steady" sends a token every 50 ms for 1.5 s, then finishes;
    // "stall" sends three tokens, then nothing (the connection stays open); "huge" three tokens, then part of a
    // line longer than the longest line taken, then nothing
    server = await(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      String model = body.toJsonObject().getString("model");
      boolean steady = model.equals("steady");
      int tokens = steady ? 30 : 3;
      AtomicInteger sent = new AtomicInteger();
      vertx.setPeriodic(1, 50, t -> {
        if (resp.closed()) {
          vertx.cancelTimer(t);
        } else if (sent.getAndIncrement() < tokens) {
          resp.write(TOKEN);
        } else {
          vertx.cancelTimer(t);
          if (model.equals("huge")) { // a line one byte over the limit, never ended
            resp.write("data: {\"choices\":[{\"delta\":{\"content\":\"" + "x".repeat(OpenAiHttpBackend.MAX_LINE));
          } else if (steady) {
            resp.end("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
          }
        }
      });
    })).listen(0, "127.0.0.1"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  private static OpenAiHttpBackend backend(String model, long requestTimeoutMs) {
    OutboundPolicy loopbackAllowed = new OutboundPolicy(List.of("127.0.0.1:" + server.actualPort()), HostResolver.SYSTEM);
    return new OpenAiHttpBackend(vertx, vertx.createHttpClient(), loopbackAllowed,
        BackendSpec.openai("http://127.0.0.1:" + server.actualPort(), model, null), requestTimeoutMs, IDLE_MS);
  }

  /** What one generation did: tokens, then how it ended and when (ms after the last token). */
  private record Ended(int tokens, String outcome, long msAfterLastToken) {
  }

  private static Ended run(OpenAiHttpBackend backend) throws Exception {
    CompletableFuture<Ended> ended = new CompletableFuture<>();
    AtomicInteger tokens = new AtomicInteger();
    long[] lastToken = {System.nanoTime()};
    vertx.runOnContext(v -> backend.start("r1", "t1", List.of(new ChatMessage("user", "hi")),
        SamplingParams.greedy(64), new GenerationListener() {
          @Override
          public void onDelta(String content, String reasoning) {
            tokens.incrementAndGet();
            lastToken[0] = System.nanoTime();
          }

          @Override
          public void onDone(String finishReason, Usage usage) {
            ended.complete(new Ended(tokens.get(), "done", since(lastToken[0])));
          }

          @Override
          public void onError(String code, String message) {
            ended.complete(new Ended(tokens.get(), code, since(lastToken[0])));
          }
        }));
    return ended.get(30, TimeUnit.SECONDS);
  }

  private static long since(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  @Test
  void aStreamThatKeepsSendingOutlastsTheLimitSeveralTimes() throws Exception {
    Ended ended = run(backend("steady", 10_000));

    assertThat(ended.outcome()).isEqualTo("done");
    assertThat(ended.tokens()).isEqualTo(30);
  }

  @Test
  void aStreamThatGoesSilentEndsAboutTheLimitAfterItsLastToken() throws Exception {
    // the wait for the answer's start (10 s) is far longer than the silence limit: the shorter one counts
    Ended ended = run(backend("stall", 10_000));

    assertThat(ended.outcome()).isEqualTo("backend_timeout");
    assertThat(ended.tokens()).isEqualTo(3);
    assertThat(ended.msAfterLastToken()).isBetween(IDLE_MS - 50, IDLE_MS + 5_000);
  }

  @Test
  void aLineOverTheLimitEndsTheStreamAsABackendError() throws Exception {
    // before #25's line reader the line parser threw inside the response handler, which Vert.x only
    // logged: the stream then ended by the silence limit, as backend_timeout
    Ended ended = run(backend("huge", 10_000));

    assertThat(ended.outcome()).isEqualTo("backend_error");
    assertThat(ended.tokens()).isEqualTo(3);
  }
}
