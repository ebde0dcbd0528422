package ai.deepchat.canary;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

import static ai.deepchat.platform.testing.Await.await;

/**
 * An OpenAI-compatible endpoint (POST /v1/chat/completions, non-streaming) standing in for an external
 * model server: it answers with a fixed text, failing with HTTP 500 on the requests {@code fails}
 * selects (by 1-based request number).
 */
final class FakeModelServer {

  private final HttpServer server;
  private final AtomicInteger counter;

  private FakeModelServer(HttpServer server, AtomicInteger counter) {
    this.server = server;
    this.counter = counter;
  }

  static FakeModelServer start(Vertx vertx, String answer, IntPredicate fails) throws Exception {
    AtomicInteger counter = new AtomicInteger();
    HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      int n = counter.incrementAndGet();
      if (fails.test(n)) {
        req.response().setStatusCode(500).end(new JsonObject().put("error", new JsonObject()
            .put("message", "upstream overloaded")).encode());
        return;
      }
      req.response().putHeader("Content-Type", "application/json").end(new JsonObject()
          .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
              .put("message", new JsonObject().put("role", "assistant").put("content", answer))
              .put("finish_reason", "stop")))
          .put("usage", new JsonObject().put("prompt_tokens", 5).put("completion_tokens", 12)).encode());
    }));
    return new FakeModelServer(await(server.listen(0, "127.0.0.1")), counter);
  }

  int served() {
    return counter.get();
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  void close() throws Exception {
    await(server.close());
  }
}
