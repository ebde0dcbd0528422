package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;

/**
 * An API client: {@code POST /v1/chat/completions} with {@code stream: true}, read as server-sent
 * events, one request after another. Content chunks are recognised by their shape rather than parsed
 * (the load generator's CPU is the platform's on a small machine); the usage chunk and errors are
 * parsed. With a fixed question ({@link #asking}) it asks it word for word, streamed or not (the FAQ mode).
 */
final class ApiStreamer extends LoadClient {

  private static final String CONTENT = "\"delta\":{\"content\"";
  private static final String REASONING = "\"delta\":{\"reasoning_content\"";

  private final HttpClient http;
  private final String apiKey;
  private final int maxTokens;
  private final double temperature;
  private StepStats.Turn turn;
  private boolean ended;
  private String question; // null: the numbered message
  private boolean stream = true;

  ApiStreamer(Vertx vertx, StepStats stats, String message, long thinkMs, HttpClient http, String apiKey,
              int maxTokens, double temperature) {
    super(vertx, stats, message, thinkMs);
    this.http = http;
    this.apiKey = apiKey;
    this.maxTokens = maxTokens;
    this.temperature = temperature;
  }

  /** Asks {@code fixed} every turn, word for word, as a streamed or a whole answer. */
  ApiStreamer asking(String fixed, boolean streamed) {
    this.question = fixed;
    this.stream = streamed;
    return this;
  }

  @Override
  Future<Void> start() {
    nextTurn();
    return finished.future();
  }

  @Override
  protected void sendTurn() {
    turn = stats.new Turn();
    ended = false;
    http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/v1/chat/completions")
            .putHeader("Authorization", "Bearer " + apiKey).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(new JsonObject().put("stream", stream).put("max_tokens", maxTokens)
            .put("temperature", temperature).put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                .put("content", question == null ? message() : question))).encode()))
        .onSuccess(this::onResponse)
        .onFailure(err -> fail("request:" + err.getClass().getSimpleName()));
  }

  private void onResponse(HttpClientResponse resp) {
    if (resp.statusCode() != 200) {
      resp.body().onComplete(b -> {
        String code = "http_" + resp.statusCode();
        try {
          code += ":" + new JsonObject(b.result()).getJsonObject("error").getString("code");
        } catch (RuntimeException notJson) {
          // the status alone
        }
        fail(code);
      });
      return;
    }
    if (!stream) {
      resp.body().onSuccess(this::onWhole).onFailure(err -> end("stream:" + err.getClass().getSimpleName()));
      return;
    }
    resp.handler(RecordParser.newDelimited("\n", this::onLine));
    resp.exceptionHandler(err -> end("stream:" + err.getClass().getSimpleName()));
    resp.endHandler(v -> end("truncated"));
  }

  private void onLine(Buffer line) {
    if (line.length() < 6 || line.getByte(0) != 'd') {
      return; // blank separator lines
    }
    long now = System.nanoTime();
    String data = line.getString(6, line.length());
    if (data.equals("[DONE]")) {
      end(null);
    } else if (data.contains(CONTENT) || data.contains(REASONING)) {
      turn.delta(now);
    } else if (data.startsWith("{\"error\"")) {
      end(new JsonObject(data).getJsonObject("error").getString("code", "error"));
    } else if (data.contains("\"usage\"")) {
      JsonObject usage = new JsonObject(data).getJsonObject("usage");
      turn.done(now, usage == null ? 0 : usage.getInteger("completion_tokens", 0), data.contains("\"intent\"")
          ? new JsonObject(data).getString("intent") : null);
    }
  }

  private void onWhole(Buffer body) {
    long now = System.nanoTime();
    JsonObject answer = new JsonObject(body); // a whole answer: its time is the turn's, not a first token's
    JsonObject usage = answer.getJsonObject("usage");
    turn.done(now, usage == null ? 0 : usage.getInteger("completion_tokens", 0), answer.getString("intent"));
    end(null);
  }

  /** The stream ended: [DONE] ({@code error} null), an error event, or the connection. */
  private void end(String error) {
    if (ended) {
      return;
    }
    ended = true;
    if (error != null) {
      fail(error);
    } else {
      endTurn();
    }
  }

  @Override
  protected void disconnect() {
    // connections are the shared client's pool
  }
}
