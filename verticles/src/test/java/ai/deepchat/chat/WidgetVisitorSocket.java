package ai.deepchat.chat;

import ai.deepchat.platform.testing.WebSockets;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;

/** A widget visitor of a harness's tenant: a session, its socket and the frames it got. */
final class WidgetVisitorSocket {

  private final ChatHarness h;
  final ChatHarness.Tenant tenant;
  final String token;
  final String id;
  final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  final WebSocket ws;

  WidgetVisitorSocket(ChatHarness h, Vertx vertx, ChatHarness.Tenant tenant) throws Exception {
    this.h = h;
    this.tenant = tenant;
    HttpResponse<String> r = h.send(h.request("/widget/session").header("Content-Type", "application/json")
        .header("Origin", tenant.origin())
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", tenant.widgetKey()).encode())));
    JsonObject s = new JsonObject(r.body());
    token = s.getString("visitorToken");
    id = s.getString("visitorId");
    ws = await(WebSockets.client(vertx).connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(h.port)
        .setURI("/widget/ws?token=" + token).addHeader("Origin", tenant.origin())));
    ws.textMessageHandler(text -> frames.add(new JsonObject(text)));
  }

  void say(String text, String conversationId) throws Exception {
    await(ws.writeTextMessage(new JsonObject().put("type", "message").put("text", text).put("conversationId", conversationId)
        .put("clientMessageId", UUID.randomUUID().toString()).encode()));
  }

  /** The next frame of {@code type} within 15 s (every frame polled is added to {@code seen}). */
  JsonObject next(String type, List<JsonObject> seen) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < until) {
      JsonObject f = frames.poll(100, TimeUnit.MILLISECONDS);
      if (f != null) {
        seen.add(f);
        if (type.equals(f.getString("type"))) {
          return f;
        }
      }
    }
    throw new AssertionError("no '" + type + "' frame; saw " + seen);
  }

  HttpResponse<String> post(String path, JsonObject body) {
    return h.send(h.request(path).header("Authorization", "Bearer " + token).header("Origin", tenant.origin())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())));
  }
}
