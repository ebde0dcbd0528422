package ai.deepchat.failover;

import ai.deepchat.platform.testing.WebSockets;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A widget visitor as the browser script is one: a session, a WebSocket, message frames. */
final class WidgetSockets {

  private WidgetSockets() {
  }

  /** A new visitor's token (POST /widget/session, on a connection of its own). */
  static String session(int port, String key, String origin) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/widget/session")).header("Origin", origin)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", key).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getString("visitorToken");
  }

  /** The visitor's socket; every frame it receives lands in {@code frames}. */
  static WebSocket connect(Vertx vertx, int port, String token, String origin, BlockingQueue<JsonObject> frames)
      throws Exception {
    WebSocket ws = WebSockets.client(vertx).connect(new WebSocketConnectOptions().setHost("127.0.0.1")
            .setPort(port).setURI("/widget/ws?token=" + token).addHeader("Origin", origin))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    ws.textMessageHandler(t -> frames.add(new JsonObject(t)));
    return ws;
  }

  /** A message frame starting a new conversation. */
  static String message(String text) {
    return new JsonObject().put("type", "message").put("text", text).put("conversationId", (String) null)
        .put("clientMessageId", UUID.randomUUID().toString()).encode();
  }

  /** The next frame of {@code type}, skipping others (deltas, citations); fails on an error frame or after 30 s. */
  static JsonObject next(BlockingQueue<JsonObject> frames, String type) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      JsonObject f = frames.poll(1, TimeUnit.SECONDS);
      if (f != null && f.getString("type").equals("error")) {
        throw new AssertionError("unexpected error frame " + f);
      }
      if (f != null && f.getString("type").equals(type)) {
        return f;
      }
    }
    throw new AssertionError("no '" + type + "' frame in 30 s");
  }
}
