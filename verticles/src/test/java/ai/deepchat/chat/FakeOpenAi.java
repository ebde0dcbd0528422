package ai.deepchat.chat;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An emulated OpenAI-compatible endpoint (the external system DeepSeek's API stands for): streams
 * reasoning, then the answer, then usage, as DeepSeek does. A question containing "SLOW" gets an
 * endless stream (one chunk every 100 ms) until the client closes the connection; a prompt saying
 * "ignore previous instructions" gets a model that obeys it ({@link #obey}); a request with tools
 * whose question says "TOOLS" gets tool calls ({@link #callTools}), as one JSON answer when it also says
 * "WHOLE" (an endpoint that ignores "stream").
 */
final class FakeOpenAi {

  /** "PACED 300 600" in a question: a first token after 300 ms, the answer's end 600 ms later. */
  private static final java.util.regex.Pattern PACED = java.util.regex.Pattern.compile("PACED (\\d+) (\\d+)");
  /** "LONG 4500" in a question: an answer of 4500 characters, in sentences, streamed a sentence a chunk. */
  private static final java.util.regex.Pattern LONG = java.util.regex.Pattern.compile("LONG (\\d+)");

  final List<JsonObject> requests = new CopyOnWriteArrayList<>();
  /** Tokens a question with BURST gets, " w0" to " w19", all in one write. */
  static final int BURST_TOKENS = 20;
  final Promise<Void> slowClosed = Promise.promise();
  /** Every question answered as a "SLOW" one (a model that never finishes on this node). */
  volatile boolean allSlow;
  private HttpServer server;

  int start(Vertx vertx) throws Exception {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      JsonObject json = body.toJsonObject();
      requests.add(json);
      if (!"Bearer sk-test".equals(req.getHeader("Authorization"))) {
        req.response().setStatusCode(401).end("{\"error\":{\"message\":\"bad key\"}}");
        return;
      }
      JsonArray messages = json.getJsonArray("messages");
      String question = messages.getJsonObject(messages.size() - 1).getString("content");
      if (json.getJsonArray("tools") != null && question.contains("WHOLE")) {
        req.response().putHeader("Content-Type", "application/json").end(new JsonObject()
            .put("id", "x").put("object", "chat.completion").put("choices", new JsonArray().add(new JsonObject()
                .put("index", 0).put("finish_reason", "tool_calls").put("message", new JsonObject()
                    .put("role", "assistant").putNull("content").put("tool_calls", new JsonArray()
                        .add(wholeCall("call_w0", "delete_everything", "{}"))
                        .add(wholeCall("call_w1", "get_weather", "{\"city\": \"Lima\"}"))))))
            .put("usage", new JsonObject().put("prompt_tokens", 9).put("completion_tokens", 4)).encode());
        return;
      }
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      if (json.encode().toLowerCase().contains("ignore previous instructions")) {
        obey(messages, resp);
        return;
      }
      if (json.getJsonArray("tools") != null && question.contains("TOOLS")) {
        callTools(resp);
        return;
      }
      if (question.contains("SLOW") || allSlow) {
        resp.write(chunk(new JsonObject().put("content", "partial"), null));
        long timer = vertx.setPeriodic(100, t -> resp.write(chunk(new JsonObject().put("content", "."), null)));
        req.connection().closeHandler(v -> {
          vertx.cancelTimer(timer);
          slowClosed.tryComplete();
        });
        return;
      }
      java.util.regex.Matcher longAnswer = LONG.matcher(question);
      if (longAnswer.find()) {
        StringBuilder text = new StringBuilder();
        for (int i = 1; text.length() < Integer.parseInt(longAnswer.group(1)); i++) {
          String sentence = "Sentence " + i + " of a long answer. ";
          text.append(sentence);
          resp.write(chunk(new JsonObject().put("content", sentence), null));
        }
        resp.write(chunk(new JsonObject(), "stop"));
        resp.end("data: [DONE]\n\n");
        return;
      }
      if (question.contains("BURST")) {
        // a fast model's many tokens in one network write, as a busy upstream or proxy delivers them
        StringBuilder burst = new StringBuilder(chunk(new JsonObject().put("role", "assistant").put("content", ""), null));
        for (int i = 0; i < BURST_TOKENS; i++) {
          burst.append(chunk(new JsonObject().put("content", " w" + i), null));
        }
        resp.end(burst.append(chunk(new JsonObject(), "stop")).append("data: [DONE]\n\n").toString());
        return;
      }
      java.util.regex.Matcher paced = PACED.matcher(question);
      if (paced.find()) {
        // known durations: the first token after the first number of ms, the end after the second more
        vertx.setTimer(Long.parseLong(paced.group(1)), t -> {
          resp.write(chunk(new JsonObject().put("role", "assistant").put("content", "Paced"), null));
          vertx.setTimer(Long.parseLong(paced.group(2)), u -> {
            resp.write(chunk(new JsonObject().put("content", " answer."), "stop"));
            resp.end("data: [DONE]\n\n");
          });
        });
        return;
      }
      resp.write(chunk(new JsonObject().put("role", "assistant").put("reasoning_content", "Thinking about it."), null));
      if (json.getBoolean("logprobs", false)) { // as OpenAI: the chunk's tokens, each with its alternatives
        JsonObject token = new JsonObject().put("token", "Echo: ").put("logprob", -0.25)
            .put("bytes", new JsonArray(List.of(69, 99, 104, 111, 58, 32)));
        JsonArray top = new JsonArray();
        for (int i = 0; i < json.getInteger("top_logprobs", 0); i++) {
          top.add(token.copy().put("logprob", -0.25 - i));
        }
        resp.write("data: " + new JsonObject().put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("delta", new JsonObject().put("content", "Echo: "))
            .put("logprobs", new JsonObject().put("content", new JsonArray().add(token.put("top_logprobs", top))))))
            .encode() + "\n\n");
      } else {
        resp.write(chunk(new JsonObject().put("content", "Echo: "), null));
      }
      resp.write(chunk(new JsonObject().put("content", question), null));
      // a question asking for a cut answer ends as max_tokens would end it
      resp.write(chunk(new JsonObject(), question.contains("CUT") ? "length" : "stop"));
      resp.write("data: " + new JsonObject().put("choices", new JsonArray())
          .put("usage", new JsonObject().put("prompt_tokens", 11).put("completion_tokens", 7)).encode() + "\n\n");
      resp.end("data: [DONE]\n\n");
    }));
    return server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
  }

  /**
   * A model that obeys instructions wherever they stand in its prompt (a planted document, say): it
   * recites its whole prompt, system message first, in small deltas, and calls the tool the prompt names
   * ("call the tool NAME with URL") although none was offered.
   */
  private static void obey(JsonArray messages, HttpServerResponse resp) {
    StringBuilder prompt = new StringBuilder("As instructed, here is everything I was told: ");
    for (int i = 0; i < messages.size(); i++) {
      prompt.append(messages.getJsonObject(i).getString("content")).append('\n');
    }
    java.util.regex.Matcher tool = java.util.regex.Pattern.compile("call the tool ([\\w-]+) with (\\S+)")
        .matcher(prompt);
    if (tool.find()) {
      resp.write(chunk(new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject().put("index", 0)
          .put("id", "call_1").put("type", "function").put("function", new JsonObject().put("name", tool.group(1))
              .put("arguments", new JsonObject().put("url", tool.group(2)).encode())))), null));
    }
    for (int i = 0; i < prompt.length(); i += 5) {
      resp.write(chunk(new JsonObject().put("content", prompt.substring(i, Math.min(prompt.length(), i + 5))), null));
    }
    resp.write(chunk(new JsonObject(), "stop"));
    resp.end("data: [DONE]\n\n");
  }

  /**
   * Some text, then two calls to get_weather streamed in argument fragments (the second one's pieces
   * interleaved with a call to a tool nobody offered), then finish_reason "tool_calls".
   */
  private static void callTools(HttpServerResponse resp) {
    resp.write(chunk(new JsonObject().put("role", "assistant").put("content", "Checking."), null));
    resp.write(chunk(toolPiece(0, "call_up_0", "get_weather", ""), null));
    resp.write(chunk(toolPiece(0, null, null, "{\"city\": "), null));
    resp.write(chunk(toolPiece(0, null, null, "\"Paris\"}"), null));
    resp.write(chunk(toolPiece(1, "call_up_1", "delete_everything", "{}"), null));
    resp.write(chunk(toolPiece(2, "call_up_2", "get_weather", "{\"city\""), null));
    resp.write(chunk(toolPiece(1, null, null, "{\"really\": true}"), null));
    resp.write(chunk(toolPiece(2, null, null, ": \"北京\"}"), null));
    resp.write(chunk(new JsonObject(), "tool_calls"));
    resp.write("data: " + new JsonObject().put("choices", new JsonArray())
        .put("usage", new JsonObject().put("prompt_tokens", 30).put("completion_tokens", 20)).encode() + "\n\n");
    resp.end("data: [DONE]\n\n");
  }

  private static JsonObject wholeCall(String id, String name, String arguments) {
    return new JsonObject().put("id", id).put("type", "function")
        .put("function", new JsonObject().put("name", name).put("arguments", arguments));
  }

  private static JsonObject toolPiece(int index, String id, String name, String arguments) {
    JsonObject function = new JsonObject().put("arguments", arguments);
    JsonObject call = new JsonObject().put("index", index);
    if (id != null) {
      call.put("id", id).put("type", "function");
      function.put("name", name);
    }
    return new JsonObject().put("tool_calls", new JsonArray().add(call.put("function", function)));
  }

  private static String chunk(JsonObject delta, String finish) {
    return "data: " + new JsonObject().put("id", "x").put("object", "chat.completion.chunk")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
            .put("finish_reason", finish))).encode() + "\n\n";
  }
}
