package ai.deepchat.failover;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * DeepSeek's OpenAI-compatible streaming API, emulated on loopback (an external system): every
 * request streams {@code tokens} words (fewer when its max_tokens says so), one every {@code gapMs}, then usage and [DONE]. Slow on
 * purpose, so a test can kill a node while an answer is in flight. A request whose body names a held
 * mark ({@link #hold}) stops after its first word until the mark is released.
 */
public final class FakeDeepSeek implements AutoCloseable {

  final AtomicInteger requests = new AtomicInteger();
  /** Streams the caller closed before their end. */
  final AtomicInteger closedEarly = new AtomicInteger();
  private final Set<String> held = ConcurrentHashMap.newKeySet();
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;

  public FakeDeepSeek(int tokens, long gapMs) throws Exception {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      if (!req.path().endsWith("/chat/completions")) {
        req.response().setStatusCode(404).end();
        return;
      }
      requests.incrementAndGet();
      int limit = Math.min(tokens, new JsonObject(body).getInteger("max_tokens", tokens));
      HttpServerResponse r = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      int[] sent = {0};
      String text = body.toString();
      vertx.setPeriodic(gapMs, id -> {
        if (r.closed() || r.ended()) {
          if (!r.ended()) {
            closedEarly.incrementAndGet();
          }
          vertx.cancelTimer(id);
          return;
        }
        if (sent[0] == 1 && held.stream().anyMatch(text::contains)) {
          return;
        }
        if (sent[0] < limit) {
          r.write(chunk(new JsonObject().put("content", "word" + sent[0]++ + " "), null));
          return;
        }
        vertx.cancelTimer(id);
        r.write(chunk(new JsonObject(), "stop"));
        r.write("data: " + new JsonObject().put("choices", new JsonArray()).put("usage", new JsonObject()
            .put("prompt_tokens", 12).put("completion_tokens", limit)).encode() + "\n\n");
        r.end("data: [DONE]\n\n");
      });
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static String chunk(JsonObject delta, String finish) {
    JsonObject choice = new JsonObject().put("index", 0).put("delta", delta).put("finish_reason", finish);
    return "data: " + new JsonObject().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk")
        .put("choices", new JsonArray().add(choice)).encode() + "\n\n";
  }

  /** Requests whose body contains {@code mark} pause after their first word until {@link #release}. */
  void hold(String mark) {
    held.add(mark);
  }

  void release(String mark) {
    held.remove(mark);
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
