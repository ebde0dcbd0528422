package ai.deepchat.chat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/**
 * An external OpenAI-compatible endpoint serving one model version: streams a fixed answer, and fails
 * with HTTP 500 on the requests {@code fails} selects (by 1-based request number). Records the last
 * user message of every request.
 */
final class VersionEndpoint {

  final List<String> questions = new CopyOnWriteArrayList<>();
  final List<JsonObject> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger counter = new AtomicInteger();
  private HttpServer server;
  private String host;

  static VersionEndpoint start(Vertx vertx, String answer, IntPredicate fails) throws Exception {
    return start(vertx, "127.0.0.1", answer, fails);
  }

  /** Listening on {@code host}, a loopback address. */
  static VersionEndpoint start(Vertx vertx, String host, String answer, IntPredicate fails) throws Exception {
    VersionEndpoint e = new VersionEndpoint();
    e.server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      int n = e.counter.incrementAndGet();
      e.requests.add(body.toJsonObject());
      JsonArray messages = body.toJsonObject().getJsonArray("messages");
      e.questions.add(messages.getJsonObject(messages.size() - 1).getString("content"));
      if (fails.test(n)) {
        req.response().setStatusCode(500).end("{\"error\":{\"message\":\"upstream overloaded\"}}");
        return;
      }
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      resp.write(chunk(new JsonObject().put("role", "assistant").put("content", answer), null));
      resp.write(chunk(new JsonObject(), "stop"));
      resp.write("data: " + new JsonObject().put("choices", new JsonArray())
          .put("usage", new JsonObject().put("prompt_tokens", 9).put("completion_tokens", 3)).encode() + "\n\n");
      resp.end("data: [DONE]\n\n");
    }));
    e.host = host;
    e.server.listen(0, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return e;
  }

  String url() {
    return "http://" + host + ":" + server.actualPort() + "/v1";
  }

  int served() {
    return counter.get();
  }

  private static String chunk(JsonObject delta, String finish) {
    return "data: " + new JsonObject().put("id", "x").put("object", "chat.completion.chunk")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
            .put("finish_reason", finish))).encode() + "\n\n";
  }
}
