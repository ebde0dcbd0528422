package ai.deepchat.failover;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A plain streaming client of /v1/chat/completions, as the failover tests need one. */
final class SseStreams {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  /**
   * What a streaming client saw: content deltas, and how the stream ended ("done", "error:CODE",
   * "eof" without [DONE], "reset"); {@code completionTokens}: the usage of the last chunk, or -1.
   */
  record Seen(List<String> deltas, String ending, String finishReason, String errorMessage, long endedAtNanos,
              int completionTokens) {
    Seen(List<String> deltas, String ending, String finishReason, String errorMessage, long endedAtNanos) {
      this(deltas, ending, finishReason, errorMessage, endedAtNanos, -1);
    }

    String text() {
      return String.join("", deltas);
    }

    boolean completed() {
      return "done".equals(ending) && finishReason != null;
    }
  }

  /** A streamed question at temperature 1 (the tiny model's noise varies its length). */
  static String body(String question, int maxTokens) {
    return new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", question))).put("stream", true).put("max_tokens", maxTokens).put("temperature", 1.0).encode();
  }

  HttpResponse<InputStream> open(int port, String key, String idempotencyKey, String body)
      throws IOException, InterruptedException {
    return open(http, port, key, idempotencyKey, body);
  }

  static HttpResponse<InputStream> open(HttpClient http, int port, String key, String idempotencyKey, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  /** Reads SSE until [DONE], an error event, or the connection ends; runs {@code afterDeltas} once after n deltas. */
  static Seen read(HttpResponse<InputStream> r, int n, Runnable afterDeltas) {
    List<String> deltas = new ArrayList<>();
    String finish = null;
    int completionTokens = -1;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.startsWith("data: ")) {
          continue;
        }
        String data = line.substring(6);
        if (data.equals("[DONE]")) {
          return new Seen(deltas, "done", finish, null, System.nanoTime(), completionTokens);
        }
        JsonObject event = new JsonObject(data);
        if (event.containsKey("error")) {
          JsonObject error = event.getJsonObject("error");
          return new Seen(deltas, "error:" + error.getString("code"), finish, error.getString("message"), System.nanoTime());
        }
        if (event.getValue("usage") instanceof JsonObject usage) {
          completionTokens = usage.getInteger("completion_tokens", -1);
        }
        var choices = event.getJsonArray("choices");
        if (choices != null && !choices.isEmpty()) {
          finish = choices.getJsonObject(0).getString("finish_reason", finish);
          String content = choices.getJsonObject(0).getJsonObject("delta", new JsonObject()).getString("content");
          if (content != null) {
            deltas.add(content);
            if (deltas.size() == n && afterDeltas != null) {
              afterDeltas.run();
            }
          }
        }
      }
      return new Seen(deltas, "eof", finish, null, System.nanoTime());
    } catch (IOException e) {
      return new Seen(deltas, "reset", finish, e.toString(), System.nanoTime());
    }
  }
}
