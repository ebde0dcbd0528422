package ai.deepchat.chat;

import ai.deepchat.platform.testing.WebSockets;
import ai.deepchat.chat.widget.VisitorSockets;
import ai.deepchat.chat.widget.VisitorTokens;
import ai.deepchat.platform.security.JwtForgery;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The widget's socket limits and the end of visitor tokens (rotated key, erased visitor), over real
 * HTTP, WebSocket and PostgreSQL.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WidgetVisitorSecurityTest {

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    // the rollout admin API mounted too; every visitor here comes from 127.0.0.1 and the forged-token
    // sweep mints one per token, past the per-address default
    h = new ChatHarness(vertx).startWithCanary(java.util.Map.of("RATE_LIMIT_NEW_VISITORS_PER_MINUTE", "1000"));
  }

  /** A socket, the JSON events it received, and how it was closed. */
  private record Socket(WebSocket ws, BlockingQueue<JsonObject> inbox, Promise<Short> closed) {
    short awaitClose() throws Exception {
      return closed.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private JsonObject newVisitor(ChatHarness.Tenant t, String widgetKey, String visitorToken) {
    JsonObject body = new JsonObject().put("key", widgetKey);
    if (visitorToken != null) {
      body.put("visitorToken", visitorToken);
    }
    HttpResponse<String> resp = h.send(h.request("/widget/session").header("Content-Type", "application/json")
        .header("Origin", t.origin()).POST(HttpRequest.BodyPublishers.ofString(body.encode())));
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    return new JsonObject(resp.body());
  }

  private int history(ChatHarness.Tenant t, String token) {
    return h.send(h.request("/widget/history").header("Authorization", "Bearer " + token)
        .header("Origin", t.origin())).statusCode();
  }

  private Socket connect(ChatHarness.Tenant t, String token) throws Exception {
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    Promise<Short> closed = Promise.promise();
    // handlers set on the event loop as the socket opens, so no early frame or close is missed
    WebSocket ws = await(WebSockets.client(vertx).connect(new WebSocketConnectOptions()
            .setHost("127.0.0.1").setPort(h.port).setURI("/widget/ws?token=" + token).addHeader("Origin", t.origin()))
        .map(socket -> {
          socket.textMessageHandler(text -> inbox.add(new JsonObject(text)));
          socket.closeHandler(v -> closed.tryComplete(socket.closeStatusCode()));
          return socket;
        }));
    return new Socket(ws, inbox, closed);
  }

  private static boolean answersPing(Socket s) throws InterruptedException {
    s.ws().writeTextMessage(new JsonObject().put("type", "ping").encode());
    JsonObject pong = s.inbox().poll(5, TimeUnit.SECONDS);
    return pong != null && "pong".equals(pong.getString("type"));
  }

  @Test
  void aMessageWithInvalidUtf8ClosesTheSocketWith1007AndStoresNothing() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-utf8");
    Socket s = connect(t, newVisitor(t, t.widgetKey(), null).getString("visitorToken"));
    // "caf" then 0xC3 0x28: a lead byte without its continuation byte, split over two frames
    s.ws().writeFrame(WebSocketFrame.textFrame("{\"type\":\"message\",\"clientMessageId\":\"utf8-1\",\"text\":\"caf", false));
    s.ws().writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(new byte[] {(byte) 0xC3, 0x28})
        .appendString("\"}"), true));
    assertThat(s.awaitClose()).isEqualTo((short) 1007);
    assertThat(h.count("SELECT count(*) FROM messages WHERE content LIKE 'caf%'")).isZero();
  }

  @Test
  void aMessageOverTheLimitClosesTheSocketWith1009() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-big");
    String token = newVisitor(t, t.widgetKey(), null).getString("visitorToken");
    // 300 KiB (over Vert.x's own message limit of 256 KiB: silently dropped before), 100 KiB (over ours),
    // 1.5 MiB (over the gateway's frame limit; the client sends it as continuation frames)
    for (int size : List.of(300 * 1024, 100 * 1024, 1536 * 1024)) {
      Socket s = connect(t, token);
      s.ws().writeTextMessage(new JsonObject().put("type", "message").put("clientMessageId", "big-" + size)
          .put("text", "x".repeat(size)).encode());
      assertThat(s.awaitClose()).as("%d bytes", size).isEqualTo((short) 1009);
    }
    // a message within the limit still works on a new socket
    assertThat(answersPing(connect(t, token))).isTrue();
  }

  @Test
  void oneVisitorHoldsALimitedNumberOfSockets() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-cap");
    String token = newVisitor(t, t.widgetKey(), null).getString("visitorToken");
    List<Socket> open = new ArrayList<>();
    for (int i = 0; i < VisitorSockets.MAX_PER_VISITOR; i++) {
      open.add(connect(t, token));
      assertThat(answersPing(open.get(i))).isTrue();
    }
    Socket extra = connect(t, token);
    assertThat(extra.awaitClose()).isEqualTo((short) 1008);
    assertThat(extra.ws().closeReason()).isEqualTo("too_many_sockets");
    assertThat(extra.inbox().poll(1, TimeUnit.SECONDS).getString("code")).isEqualTo("too_many_sockets");
    // another visitor is not affected, and a closed socket frees its place
    assertThat(answersPing(connect(t, newVisitor(t, t.widgetKey(), null).getString("visitorToken")))).isTrue();
    await(open.get(0).ws().close());
    // the server may not have seen the close yet: connect again until a place is free
    until("a closed socket frees its place", Duration.ofSeconds(10), () -> answersPing(connect(t, token)));
  }

  @Test
  void rotatingTheWidgetKeyEndsEveryVisitorTokenAndClosesTheirSockets() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-rotate");
    JsonObject visitor = newVisitor(t, t.widgetKey(), null);
    String token = visitor.getString("visitorToken");
    Socket s = connect(t, token);
    assertThat(answersPing(s)).isTrue();
    assertThat(history(t, token)).isEqualTo(200);

    // what the console's "rotate key" does: a new key committed, then the revocation published
    String newKey = TenantKeys.newWidgetKey(t.id());
    await(h.db.inTenant(t.id(), c -> c.preparedQuery("UPDATE widget_settings SET public_key = $1")
        .execute(Tuple.of(newKey))));
    assertThat(history(t, token)).isEqualTo(401);
    VisitorSockets.publish(vertx, t.id(), null);
    assertThat(s.awaitClose()).isEqualTo((short) 1008);
    assertThat(WebSockets.client(vertx).connect(new WebSocketConnectOptions().setHost("127.0.0.1")
            .setPort(h.port).setURI("/widget/ws?token=" + token).addHeader("Origin", t.origin()))
        .toCompletionStage().toCompletableFuture()).failsWithin(10, TimeUnit.SECONDS);
    // the old token with the new key: a new visitor, whose token works
    JsonObject fresh = newVisitor(t, newKey, token);
    assertThat(fresh.getString("visitorId")).isNotEqualTo(visitor.getString("visitorId"));
    assertThat(history(t, fresh.getString("visitorToken"))).isEqualTo(200);
  }

  @Test
  void erasingAVisitorEndsItsTokensAndClosesItsSocketsOnly() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-erase");
    JsonObject erased = newVisitor(t, t.widgetKey(), null);
    JsonObject kept = newVisitor(t, t.widgetKey(), null);
    Socket erasedSocket = connect(t, erased.getString("visitorToken"));
    Socket keptSocket = connect(t, kept.getString("visitorToken"));
    assertThat(answersPing(erasedSocket)).isTrue();

    HttpResponse<String> del = h.send(h.request("/v1/visitors/" + erased.getString("visitorId"))
        .header("Authorization", "Bearer " + t.apiKey()).DELETE());
    assertThat(del.statusCode()).as(del.body()).isEqualTo(200);

    assertThat(erasedSocket.awaitClose()).isEqualTo((short) 1008);
    assertThat(history(t, erased.getString("visitorToken"))).isEqualTo(401);
    // presenting the erased token again starts a new visitor rather than reviving the old one
    assertThat(newVisitor(t, t.widgetKey(), erased.getString("visitorToken")).getString("visitorId"))
        .isNotEqualTo(erased.getString("visitorId"));
    assertThat(history(t, kept.getString("visitorToken"))).isEqualTo(200);
    assertThat(answersPing(keptSocket)).isTrue();
    // the erased id is not kept in clear
    assertThat(h.count("SELECT count(*) FROM erased_visitors WHERE tenant_id = '" + t.id() + "'")).isEqualTo(1);
    assertThat(h.count("SELECT count(*) FROM erased_visitors WHERE position(convert_to('"
        + erased.getString("visitorId") + "', 'UTF8') in visitor_hash) > 0")).isZero();
  }

  /** Scenario 23 for visitor tokens, on every way a token is presented (header, socket, session). */
  @Test
  void forgedVisitorTokensAreRefusedEveryTime() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-forged");
    String secret = java.nio.file.Files.readString(h.platform.config().dataDir().resolve("secrets")
        .resolve("jwt-secret")).trim();
    String visitorId = newVisitor(t, t.widgetKey(), null).getString("visitorId");
    long now = System.currentTimeMillis() / 1000;
    JsonObject valid = new JsonObject().put("tenant", t.id().toString()).put("vid", visitorId)
        .put("wk", VisitorTokens.keyTag(t.widgetKey())).put("iss", "deepchat").put("aud", "widget")
        .put("iat", now).put("exp", now + 600);
    // the control: these claims, signed properly, pass, so each refusal below is for its one change
    String good = JwtForgery.hs256(secret, valid);
    assertThat(history(t, good)).isEqualTo(200);
    assertThat(answersPing(connect(t, good))).isTrue();
    List<JwtForgery.Forged> forged = new ArrayList<>(JwtForgery.scenario23(secret, valid));
    JsonObject oldKey = valid.copy().put("wk", VisitorTokens.keyTag(TenantKeys.newWidgetKey(t.id())));
    forged.add(new JwtForgery.Forged("issued under another widget key", JwtForgery.hs256(secret, oldKey)));
    JsonObject noKey = valid.copy();
    noKey.remove("wk");
    forged.add(new JwtForgery.Forged("no widget key", JwtForgery.hs256(secret, noKey)));
    for (JwtForgery.Forged f : forged) {
      assertThat(history(t, f.token())).as(f.name()).isEqualTo(401);
      HttpResponse<String> ws = h.send(h.request("/widget/ws?token=" + java.net.URLEncoder.encode(f.token(),
          StandardCharsets.UTF_8)).header("Origin", t.origin()));
      assertThat(ws.statusCode()).as("socket, " + f.name()).isEqualTo(401);
      assertThat(newVisitor(t, t.widgetKey(), f.token()).getString("visitorId")).as("session, " + f.name())
          .isNotEqualTo(visitorId);
    }
  }

  /**
   * Scenario 26 for the HTTP API: a visitor token (a valid one) on every API route the gateway mounts,
   * listed from the modules' own routes so new ones are covered: 401, exactly like no credentials.
   */
  @Test
  void aVisitorTokenOpensNoApiRoute() throws Exception {
    ChatHarness.Tenant t = h.tenant("ws-api");
    String token = newVisitor(t, t.widgetKey(), null).getString("visitorToken");
    io.vertx.ext.web.Router probe = io.vertx.ext.web.Router.router(vertx);
    h.modules.get().forEach(m -> m.mount(probe));
    List<String[]> routes = new ArrayList<>();
    for (io.vertx.ext.web.Route r : probe.getRoutes()) {
      if (r.getPath() != null && r.getPath().startsWith("/v1") && r.methods() != null) {
        r.methods().forEach(m -> routes.add(new String[] {m.name(), r.getPath().replaceAll(":[A-Za-z]+",
            UUID.randomUUID().toString())}));
      }
    }
    assertThat(routes.stream().map(r -> r[1])).anyMatch(p -> p.startsWith("/v1/admin/rollouts"))
        .anyMatch(p -> p.startsWith("/v1/visitors")).anyMatch(p -> p.startsWith("/v1/chat/completions"));
    long before = h.count("SELECT count(*) FROM audit_log") + h.count("SELECT count(*) FROM messages");
    for (String[] r : routes) {
      for (String auth : new String[] {"Bearer " + token, "Bearer " + t.widgetKey(), token}) {
        HttpResponse<String> resp = h.send(h.request(r[1]).header("Authorization", auth)
            .header("Content-Type", "application/json").header("Origin", t.origin())
            .method(r[0], HttpRequest.BodyPublishers.ofString("{\"name\":\"x\",\"messages\":[]}")));
        assertThat(resp.statusCode()).as("%s %s with %s", r[0], r[1], auth.substring(0, 12)).isEqualTo(401);
        assertThat(new JsonObject(resp.body()).getJsonObject("error")).as(resp.body()).isNotNull();
      }
    }
    assertThat(h.count("SELECT count(*) FROM audit_log") + h.count("SELECT count(*) FROM messages")).isEqualTo(before);
  }
}
