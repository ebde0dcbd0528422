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

/** One streamed chat completion as a client sees it, read to its end over SSE. */
final class ChatCall {

  /** How a stream ended ("done", "error:&lt;code&gt;", "eof", "reset"), its finish reason and text. */
  record Seen(int deltas, String ending, String finishReason, String content) {
    boolean completed() {
      return "done".equals(ending) && finishReason != null;
    }
  }

  private ChatCall() {
  }

  static String body(String question, int maxTokens) {
    return new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", question))).put("stream", true).put("max_tokens", maxTokens).put("temperature", 1.0).encode();
  }

  static HttpResponse<InputStream> open(HttpClient http, int port, String key, String idempotencyKey, String body)
      throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + key)
        .header("Idempotency-Key", idempotencyKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  /** Reads to [DONE], an error event or the end of the connection; runs {@code afterDeltas} once after n deltas. */
  static Seen read(HttpResponse<InputStream> r, int n, Runnable afterDeltas) {
    StringBuilder content = new StringBuilder();
    int deltas = 0;
    String finish = null;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.startsWith("data: ")) {
          continue;
        }
        String data = line.substring(6);
        if (data.equals("[DONE]")) {
          return new Seen(deltas, "done", finish, content.toString());
        }
        JsonObject event = new JsonObject(data);
        if (event.containsKey("error")) {
          return new Seen(deltas, "error:" + event.getJsonObject("error").getString("code"), finish, content.toString());
        }
        JsonArray choices = event.getJsonArray("choices");
        if (choices == null || choices.isEmpty()) {
          continue;
        }
        JsonObject choice = choices.getJsonObject(0);
        finish = choice.getString("finish_reason", finish);
        String text = choice.getJsonObject("delta", new JsonObject()).getString("content");
        if (text != null) {
          content.append(text);
          if (++deltas == n && afterDeltas != null) {
            afterDeltas.run();
          }
        }
      }
      return new Seen(deltas, "eof", finish, content.toString());
    } catch (IOException e) {
      return new Seen(deltas, "reset", finish, content.toString());
    }
  }
}
