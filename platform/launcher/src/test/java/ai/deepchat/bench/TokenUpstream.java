package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A fast token source for the load bench: an OpenAI-compatible {@code /chat/completions} on loopback that
 * streams {@code max_tokens} one-word tokens at a set rate per stream, so the platform's cost per delivered
 * token can be measured without the engine taking the cores. A peer of the platform in the bench JVM (its
 * CPU counts as the load generator's), never a replacement for any part of it: the node reaches it through
 * its ordinary remote backend ({@code DEEPSEEK_BASE_URL}).
 */
final class TokenUpstream {

  /** Every token is the same word: the upstream's own cost per token stays a buffer write. */
  private static final Buffer TOKEN = sse(new JsonObject().put("id", "bench").put("object", "chat.completion.chunk")
      .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
          .put("delta", new JsonObject().put("content", " ok")).putNull("finish_reason"))));

  private final Vertx vertx;
  private final double tokensPerSecond;
  private HttpServer server;

  TokenUpstream(Vertx vertx, double tokensPerSecond) {
    this.vertx = vertx;
    this.tokensPerSecond = tokensPerSecond;
  }

  /** Listens on 127.0.0.1 (a free port); the base URL for DEEPSEEK_BASE_URL. */
  Future<String> start() {
    server = vertx.createHttpServer();
    return server.requestHandler(this::handle).listen(0, "127.0.0.1")
        .map(s -> "http://127.0.0.1:" + s.actualPort());
  }

  Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest req) {
    if (!req.path().endsWith("/chat/completions")) {
      req.response().setStatusCode(404).end();
      return;
    }
    req.body().onSuccess(body -> {
      JsonObject in = body.toJsonObject();
      int n = Math.max(1, in.getInteger("max_tokens", 512));
      int prompt = body.length() / 4;
      if (!in.getBoolean("stream", false)) {
        req.response().putHeader("content-type", "application/json").end(new JsonObject()
            .put("id", "bench").put("object", "chat.completion")
            .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("finish_reason", "length")
                .put("message", new JsonObject().put("role", "assistant").put("content", " ok".repeat(n)))))
            .put("usage", usage(prompt, n)).encode());
        return;
      }
      HttpServerResponse resp = req.response().setChunked(true).putHeader("content-type", "text/event-stream");
      long period = Math.max(1, Math.round(1000 / tokensPerSecond));
      int[] sent = {0};
      long timer = vertx.setPeriodic(period, t -> {
        if (sent[0]++ < n) {
          resp.write(TOKEN);
          return;
        }
        vertx.cancelTimer(t);
        resp.write(sse(new JsonObject().put("id", "bench").put("object", "chat.completion.chunk")
            .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", new JsonObject())
                .put("finish_reason", "length")))));
        resp.write(sse(new JsonObject().put("id", "bench").put("object", "chat.completion.chunk")
            .put("choices", new JsonArray()).put("usage", usage(prompt, n))));
        resp.end("data: [DONE]\n\n");
      });
      resp.closeHandler(v -> vertx.cancelTimer(timer));
    }).onFailure(err -> req.response().setStatusCode(400).end());
  }

  private static JsonObject usage(int prompt, int completion) {
    return new JsonObject().put("prompt_tokens", prompt).put("completion_tokens", completion)
        .put("total_tokens", prompt + completion);
  }

  private static Buffer sse(JsonObject chunk) {
    return Buffer.buffer("data: " + chunk.encode() + "\n\n");
  }
}
