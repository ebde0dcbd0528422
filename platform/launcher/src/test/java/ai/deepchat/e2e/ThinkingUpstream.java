package ai.deepchat.e2e;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeUnit;

/**
 * An OpenAI-compatible upstream on loopback (an external system, as DeepSeek's reasoner or a vLLM
 * would be): it streams {@code reasoning_content} before its answer, and when the request offers
 * {@code tools} it answers by calling the first one, its arguments in several deltas. The SDK
 * conformance test routes a model version here to see reasoning and tool calls pass through the node.
 */
final class ThinkingUpstream implements AutoCloseable {

  static final String THOUGHT = "The user wants a greeting. A short one will do.";
  static final String ANSWER = "Hello there!";
  static final String ARGUMENTS = "{\"city\": \"Paris\", \"unit\": \"celsius\"}";

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;

  ThinkingUpstream() throws Exception {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      if (!req.path().endsWith("/chat/completions")) {
        req.response().setStatusCode(404).end();
        return;
      }
      JsonObject request = body.toJsonObject();
      HttpServerResponse r = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      r.write(chunk(new JsonObject().put("role", "assistant"), null));
      JsonArray tools = request.getJsonArray("tools");
      String finish;
      if (tools != null && !tools.isEmpty()) {
        String name = tools.getJsonObject(0).getJsonObject("function").getString("name");
        int half = ARGUMENTS.length() / 2;
        r.write(chunk(toolCall(new JsonObject().put("id", "call_upstream_1").put("type", "function")
            .put("function", new JsonObject().put("name", name).put("arguments", ARGUMENTS.substring(0, half)))), null));
        r.write(chunk(toolCall(new JsonObject().put("function",
            new JsonObject().put("arguments", ARGUMENTS.substring(half)))), null));
        finish = "tool_calls";
      } else {
        for (String piece : THOUGHT.split("(?<= )")) {
          r.write(chunk(new JsonObject().put("reasoning_content", piece), null));
        }
        for (String piece : ANSWER.split("(?<= )")) {
          r.write(chunk(new JsonObject().put("content", piece), null));
        }
        finish = "stop";
      }
      r.write(chunk(new JsonObject(), finish));
      r.write("data: " + new JsonObject().put("choices", new JsonArray()).put("usage", new JsonObject()
          .put("prompt_tokens", 12).put("completion_tokens", 20).put("total_tokens", 32)).encode() + "\n\n");
      r.end("data: [DONE]\n\n");
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static JsonObject toolCall(JsonObject call) {
    return new JsonObject().put("tool_calls", new JsonArray().add(call.put("index", 0)));
  }

  private static String chunk(JsonObject delta, String finish) {
    JsonObject choice = new JsonObject().put("index", 0).put("delta", delta).put("finish_reason", finish);
    return "data: " + new JsonObject().put("id", "chatcmpl-upstream").put("object", "chat.completion.chunk")
        .put("created", 1_700_000_000L).put("model", "deepseek-reasoner").put("choices", new JsonArray().add(choice))
        .encode() + "\n\n";
  }

  /** The endpoint allow-list entry (OUTBOUND_ALLOWED_HOSTS) for this upstream. */
  String hostPort() {
    return "127.0.0.1:" + server.actualPort();
  }

  /** The base URL a model version's {@code location} names. */
  String baseUrl() {
    return "http://" + hostPort() + "/v1";
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
