package ai.deepchat.chat;

import ai.deepchat.platform.testing.WebSockets;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** The widget protocol over real HTTP, WebSocket and PostgreSQL. */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WidgetIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant a;
  private ChatHarness.Tenant b;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start();
    a = h.tenant("wid-alpha");
    b = h.tenant("wid-beta");
  }

  private HttpResponse<String> session(ChatHarness.Tenant t, String origin, String visitorToken) {
    JsonObject body = new JsonObject().put("key", t.widgetKey());
    if (visitorToken != null) {
      body.put("visitorToken", visitorToken);
    }
    HttpRequest.Builder req = h.request("/widget/session").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
    if (origin != null) {
      req.header("Origin", origin);
    }
    return h.send(req);
  }

  private JsonObject newVisitor(ChatHarness.Tenant t) {
    HttpResponse<String> resp = session(t, t.origin(), null);
    assertThat(resp.statusCode()).isEqualTo(200);
    return new JsonObject(resp.body());
  }

  private HttpResponse<String> get(String path, String token, String origin) {
    HttpRequest.Builder req = h.request(path);
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    if (origin != null) {
      req.header("Origin", origin);
    }
    return h.send(req);
  }

  @Test
  void configAnswersOnlyAllowedOriginsWithCors() {
    HttpResponse<String> ok = get("/widget/config?key=" + a.widgetKey(), null, a.origin());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("Access-Control-Allow-Origin")).contains(a.origin());
    JsonObject cfg = new JsonObject(ok.body());
    assertThat(cfg.getString("title")).isEqualTo("Chat with us");
    assertThat(cfg.getBoolean("testModel")).isFalse();
    HttpResponse<String> foreign = get("/widget/config?key=" + a.widgetKey(), null, b.origin());
    assertThat(foreign.statusCode()).isEqualTo(403);
    // the refusal, and nothing of the widget's settings, is readable by the refused page: the widget
    // says why it does not appear (issue #22)
    assertThat(foreign.headers().firstValue("Access-Control-Allow-Origin")).contains(b.origin());
    JsonObject refusal = new JsonObject(foreign.body());
    assertThat(refusal.fieldNames()).containsExactly("error");
    assertThat(refusal.getJsonObject("error").getString("code")).isEqualTo("origin_not_allowed");
    assertThat(get("/widget/config?key=pk_" + "0".repeat(32) + "_" + "a".repeat(16), null, a.origin()).statusCode())
        .isEqualTo(404);
    // preflights pass for listed origins only, and never with '*'
    HttpResponse<String> pre = h.send(h.request("/widget/history").method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", a.origin()).header("Access-Control-Request-Method", "GET"));
    assertThat(pre.statusCode()).isEqualTo(204);
    assertThat(pre.headers().firstValue("Access-Control-Allow-Origin")).contains(a.origin());
    HttpResponse<String> evil = h.send(h.request("/widget/history").method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", "https://evil.example").header("Access-Control-Request-Method", "GET"));
    assertThat(evil.statusCode()).isEqualTo(403);
    assertThat(evil.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void sessionsNeedAnAllowedOriginAndKeepTheVisitorAcrossRefreshes() {
    assertThat(session(a, null, null).statusCode()).isEqualTo(403);
    assertThat(session(a, "https://evil.example", null).statusCode()).isEqualTo(403);
    assertThat(session(a, a.origin() + ".evil.example", null).statusCode()).isEqualTo(403);
    JsonObject first = newVisitor(a);
    assertThat(first.getValue("conversationId")).isNull();
    HttpResponse<String> again = session(a, a.origin(), first.getString("visitorToken"));
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(again.body()).getString("visitorId")).isEqualTo(first.getString("visitorId"));
    // tenant A's visitor token with tenant B's widget
    HttpResponse<String> cross = session(b, b.origin(), first.getString("visitorToken"));
    assertThat(cross.statusCode()).isEqualTo(403);
  }

  @Test
  void forgedExpiredAndIncompleteTokensAreRefused() throws Exception {
    String secret = Files.readString(h.platform.config().dataDir().resolve("secrets").resolve("jwt-secret")).trim();
    JsonObject claims = new JsonObject().put("tenant", a.id().toString()).put("vid", "v_forged")
        .put("wk", ai.deepchat.chat.widget.VisitorTokens.keyTag(a.widgetKey()));
    List<String> bad = new ArrayList<>();
    bad.add(signer(secret).generateToken(claims.copy(), new JWTOptions().setIssuer("deepchat").setAudience(List.of("widget"))));
    bad.add(signer(secret).generateToken(claims.copy(), opts().setAudience(List.of("console"))));
    bad.add(signer(secret).generateToken(claims.copy(), opts().setIssuer("someone-else")));
    bad.add(signer(secret).generateToken(claims.copy().put("exp", System.currentTimeMillis() / 1000 - 3600),
        new JWTOptions().setIssuer("deepchat").setAudience(List.of("widget"))));
    bad.add(signer("another-secret-another-secret-123").generateToken(claims.copy(), opts()));
    String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(claims.copy()
        .put("iss", "deepchat").put("aud", "widget").put("exp", System.currentTimeMillis() / 1000 + 3600)
        .encode().getBytes(StandardCharsets.UTF_8));
    bad.add(Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(
        StandardCharsets.UTF_8)) + "." + payload + ".");
    bad.add("not-a-jwt");
    for (String token : bad) {
      assertThat(get("/widget/history", token, a.origin()).statusCode()).as(token).isEqualTo(401);
    }
    // the same signer with every check satisfied works, so the refusals above are for the right reasons
    assertThat(get("/widget/history", signer(secret).generateToken(claims.copy(), opts()), a.origin()).statusCode())
        .isEqualTo(200);
  }

  private static JWTOptions opts() {
    return new JWTOptions().setIssuer("deepchat").setAudience(List.of("widget")).setExpiresInSeconds(600);
  }

  private JWTAuth signer(String secret) {
    return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(secret)));
  }

  private WebSocket connect(String token, String origin, BlockingQueue<JsonObject> inbox) throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(h.port)
        .setURI("/widget/ws?token=" + token);
    if (origin != null) {
      options.addHeader("Origin", origin);
    }
    WebSocket ws = await(WebSockets.client(vertx).connect(options));
    ws.textMessageHandler(text -> inbox.add(new JsonObject(text)));
    return ws;
  }

  private static List<JsonObject> untilEnd(BlockingQueue<JsonObject> inbox) throws InterruptedException {
    List<JsonObject> events = new ArrayList<>();
    while (true) {
      JsonObject e = inbox.poll(15, TimeUnit.SECONDS);
      assertThat(e).as("an event before the timeout, after " + events).isNotNull();
      events.add(e);
      if (e.getString("type").equals("done") || e.getString("type").equals("error")) {
        return events;
      }
    }
  }

  @Test
  void aRetryOfAStalledTurnIsPromptedWithTheHistoryBeforeItOnly() throws Exception {
    String token = newVisitor(a).getString("visitorToken");
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = connect(token, a.origin(), inbox);
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "First question").putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    String conversationId = untilEnd(inbox).get(0).getString("conversationId");
    String second = UUID.randomUUID().toString();
    for (String[] turn : List.of(new String[] {"Second question", second},
        new String[] {"Third question", UUID.randomUUID().toString()})) {
      ws.writeTextMessage(new JsonObject().put("type", "message").put("text", turn[0]).put("conversationId", conversationId)
          .put("clientMessageId", turn[1]).encode());
      untilEnd(inbox);
    }
    // the second turn's node died while streaming: a retry generates it again, seeing only what came before it
    h.execOwner("UPDATE messages SET status = 'streaming', updated_at = now() - interval '10 minutes' WHERE reply_to = "
        + "(SELECT id FROM messages WHERE conversation_id = '" + conversationId + "' AND content = 'Second question')");
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "Second question").put("conversationId", conversationId)
        .put("clientMessageId", second).encode());
    List<JsonObject> retried = untilEnd(inbox);
    assertThat(retried.get(retried.size() - 1).getString("type")).isEqualTo("done");
    String prompt = h.remote.requests.get(h.remote.requests.size() - 1).getJsonArray("messages").encode();
    assertThat(prompt).contains("First question").contains("Echo: First question").contains("Second question")
        .doesNotContain("Third question");
    assertThat(h.string("SELECT status FROM messages WHERE reply_to = (SELECT id FROM messages WHERE conversation_id = '"
        + conversationId + "' AND content = 'Second question')")).isEqualTo("complete");
    ws.close();
  }

  @Test
  void chatsOverTheWebSocketThenShowsHistoryAndTakesFeedback() throws Exception {
    JsonObject visitor = newVisitor(a);
    String token = visitor.getString("visitorToken");
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = connect(token, a.origin(), inbox);
    ws.writeTextMessage(new JsonObject().put("type", "ping").encode());
    assertThat(inbox.poll(5, TimeUnit.SECONDS).getString("type")).isEqualTo("pong");
    String clientId = UUID.randomUUID().toString();
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "Hello widget").putNull("conversationId")
        .put("clientMessageId", clientId).encode());
    List<JsonObject> events = untilEnd(inbox);
    assertThat(events.get(0).getString("type")).isEqualTo("start");
    String conversationId = events.get(0).getString("conversationId");
    String messageId = events.get(0).getString("messageId");
    StringBuilder content = new StringBuilder();
    events.stream().filter(e -> e.getString("type").equals("delta")).forEach(e -> content.append(e.getString("content", "")));
    assertThat(content.toString()).isEqualTo("Echo: Hello widget");
    JsonObject done = events.get(events.size() - 1);
    assertThat(done.getString("type")).isEqualTo("done");
    assertThat(done.getString("messageId")).isEqualTo(messageId);
    assertThat(done.getString("intent")).isEqualTo("chat");

    // a second turn in the same conversation carries the first as context
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "And again").put("conversationId", conversationId)
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    untilEnd(inbox);
    JsonArray sent = h.remote.requests.get(h.remote.requests.size() - 1).getJsonArray("messages");
    assertThat(sent.encode()).contains("Hello widget").contains("Echo: Hello widget");

    // the same clientMessageId again is a retry: replayed, not stored twice
    int calls = h.remote.requests.size();
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "Hello widget").putNull("conversationId")
        .put("clientMessageId", clientId).encode());
    List<JsonObject> replay = untilEnd(inbox);
    assertThat(replay.get(0).getString("messageId")).isEqualTo(messageId);
    assertThat(h.remote.requests.size()).isEqualTo(calls);
    assertThat(h.count("SELECT count(*) FROM messages WHERE content = 'Hello widget'")).isEqualTo(1);
    ws.close();

    HttpResponse<String> history = get("/widget/history?conversationId=" + conversationId, token, a.origin());
    assertThat(history.statusCode()).isEqualTo(200);
    assertThat(history.headers().firstValue("Access-Control-Allow-Origin")).contains(a.origin());
    JsonArray messages = new JsonObject(history.body()).getJsonArray("messages");
    assertThat(messages.size()).isEqualTo(4);
    assertThat(messages.getJsonObject(0).getString("content")).isEqualTo("Hello widget");
    assertThat(messages.getJsonObject(1).getString("id")).isEqualTo(messageId);
    // no id: the latest conversation; a new session names it
    assertThat(new JsonObject(get("/widget/history", token, a.origin()).body()).getString("conversationId"))
        .isEqualTo(conversationId);
    assertThat(new JsonObject(session(a, a.origin(), token).body()).getString("conversationId")).isEqualTo(conversationId);

    HttpResponse<String> fb = h.send(h.request("/widget/feedback").header("Authorization", "Bearer " + token)
        .header("Origin", a.origin()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("messageId", messageId).put("value", -1).encode())));
    assertThat(fb.statusCode()).isEqualTo(204);
    assertThat(h.count("SELECT feedback FROM messages WHERE id = '" + messageId + "'")).isEqualTo(-1);
    HttpResponse<String> badValue = h.send(h.request("/widget/feedback").header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("messageId", messageId).put("value", 5).encode())));
    assertThat(badValue.statusCode()).isEqualTo(400);

    // isolation: another visitor (same tenant) and tenant B's visitor see and change nothing of this
    for (ChatHarness.Tenant other : List.of(a, b)) {
      String otherToken = newVisitor(other).getString("visitorToken");
      assertThat(get("/widget/history?conversationId=" + conversationId, otherToken, other.origin()).statusCode())
          .isEqualTo(404);
      HttpResponse<String> foreignFeedback = h.send(h.request("/widget/feedback").header("Authorization", "Bearer " + otherToken)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("messageId", messageId).put("value", 1).encode())));
      assertThat(foreignFeedback.statusCode()).isEqualTo(404);
      BlockingQueue<JsonObject> otherInbox = new LinkedBlockingQueue<>();
      WebSocket ows = connect(otherToken, other.origin(), otherInbox);
      ows.writeTextMessage(new JsonObject().put("type", "message").put("text", "sneak in").put("conversationId", conversationId)
          .put("clientMessageId", UUID.randomUUID().toString()).encode());
      JsonObject refused = otherInbox.poll(10, TimeUnit.SECONDS);
      assertThat(refused.getString("type")).isEqualTo("error");
      assertThat(refused.getString("code")).isEqualTo("conversation_not_found");
      ows.close();
    }
    assertThat(h.count("SELECT feedback FROM messages WHERE id = '" + messageId + "'")).isEqualTo(-1);
    assertThat(h.count("SELECT count(*) FROM messages WHERE conversation_id = '" + conversationId + "'")).isEqualTo(4);
    assertThat(h.count("SELECT count(*) FROM messages WHERE content = 'sneak in'")).isZero();
  }

  @Test
  void aSocketMessageWithNulGetsAnErrorFrameAndStoresNothing() throws Exception {
    String token = newVisitor(a).getString("visitorToken");
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = connect(token, a.origin(), inbox);
    long messages = h.count("SELECT count(*) FROM messages");
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "nul\u0000inside").putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    JsonObject error = inbox.poll(10, TimeUnit.SECONDS);
    assertThat(error).isNotNull();
    assertThat(error.getString("type")).isEqualTo("error");
    assertThat(error.getString("code")).isEqualTo("invalid_characters");
    assertThat(h.count("SELECT count(*) FROM messages")).isEqualTo(messages);
    ws.close();
  }

  @Test
  void theWebSocketChecksTokenAndOriginBeforeUpgrading() {
    String token = newVisitor(a).getString("visitorToken");
    WebSocketConnectOptions wrongOrigin = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(h.port)
        .setURI("/widget/ws?token=" + token).addHeader("Origin", b.origin());
    assertThat(WebSockets.client(vertx).connect(wrongOrigin).toCompletionStage().toCompletableFuture())
        .failsWithin(10, TimeUnit.SECONDS);
    WebSocketConnectOptions noToken = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(h.port)
        .setURI("/widget/ws?token=garbage").addHeader("Origin", a.origin());
    assertThat(WebSockets.client(vertx).connect(noToken).toCompletionStage().toCompletableFuture())
        .failsWithin(10, TimeUnit.SECONDS);
    assertThat(get("/widget/ws?token=" + token, null, b.origin()).statusCode()).isEqualTo(403);
  }

  @Test
  void aBrowserOfferingPermessageDeflateGetsAnUncompressedSocket() throws Exception {
    String token = newVisitor(a).getString("visitorToken");
    WebSocket ws = await(vertx.createWebSocketClient(new WebSocketClientOptions()
            .setTryUsePerMessageCompression(true))
        .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(h.port)
            .setURI("/widget/ws?token=" + token).addHeader("Origin", a.origin())));
    // a compressed socket would keep a zlib deflater and inflater for as long as it stays open
    assertThat(ws.headers().get("Sec-WebSocket-Extensions")).isNull();
    ws.close();
  }

  @Test
  void theSseFallbackStreamsTheSameEvents() {
    String token = newVisitor(a).getString("visitorToken");
    HttpResponse<String> resp = h.send(h.request("/widget/chat").header("Authorization", "Bearer " + token)
        .header("Origin", a.origin()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("type", "message").put("text", "Over SSE")
            .putNull("conversationId").put("clientMessageId", "sse-1").encode())));
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    assertThat(resp.headers().firstValue("Access-Control-Allow-Origin")).contains(a.origin());
    List<JsonObject> events = resp.body().lines().filter(l -> l.startsWith("data: "))
        .map(l -> new JsonObject(l.substring(6))).toList();
    assertThat(events.get(0).getString("type")).isEqualTo("start");
    assertThat(events.get(events.size() - 1).getString("type")).isEqualTo("done");
    assertThat(events.stream().filter(e -> e.getString("type").equals("delta"))
        .map(e -> e.getString("content", "")).reduce("", String::concat)).isEqualTo("Echo: Over SSE");
    // bad bodies: 400 before anything is stored
    long msgs = h.count("SELECT count(*) FROM messages");
    for (String body : List.of("{\"text\": \"\", \"clientMessageId\": \"x\"}", "{\"text\": \"hi\"}", "{oops",
        "{\"text\": \"" + "z".repeat(600) + "\", \"clientMessageId\": \"long-1\"}")) {
      HttpResponse<String> bad = h.send(h.request("/widget/chat").header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
      assertThat(bad.statusCode()).as(body).isEqualTo(400);
    }
    assertThat(h.count("SELECT count(*) FROM messages")).isEqualTo(msgs);
    assertThat(h.postJson("/widget/chat", null, "{}").statusCode()).isEqualTo(401);
  }

  @Test
  void closingTheSocketStopsTheGenerationAndKeepsWhatWasDelivered() throws Exception {
    String token = newVisitor(a).getString("visitorToken");
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = connect(token, a.origin(), inbox);
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "SLOW widget question").putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    JsonObject start = inbox.poll(10, TimeUnit.SECONDS);
    assertThat(start.getString("type")).isEqualTo("start");
    JsonObject first = inbox.poll(10, TimeUnit.SECONDS);
    assertThat(first.getString("content")).isEqualTo("partial");
    // a second message while the first is answered is refused, not interleaved
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "me too").putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    JsonObject busy;
    do {
      busy = inbox.poll(10, TimeUnit.SECONDS);
    } while (busy != null && busy.getString("type").equals("delta"));
    assertThat(busy.getString("code")).isEqualTo("busy");
    await(ws.close());
    h.remote.slowClosed.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    String messageId = start.getString("messageId");
    String answer = "SELECT status || '|' || content FROM messages WHERE id = '" + messageId + "'";
    until("the answer is stored interrupted", Duration.ofSeconds(10),
        () -> h.string(answer) != null && h.string(answer).startsWith("interrupted"));
    assertThat(h.string(answer)).startsWith("interrupted|partial");
  }

  @Test
  void aVisitorOverItsLimitIsToldWhenToRetry() throws Exception {
    ChatHarness.Tenant t = h.tenant("wid-limited");
    h.execOwner("UPDATE tenant_settings SET visitor_requests_per_minute = 1 WHERE tenant_id = '" + t.id() + "'");
    String token = newVisitor(t).getString("visitorToken");
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = connect(token, t.origin(), inbox);
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "first").putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    assertThat(untilEnd(inbox).get(0).getString("type")).isEqualTo("start");
    ws.writeTextMessage(new JsonObject().put("type", "message").put("text", "second").putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString()).encode());
    JsonObject refused = inbox.poll(10, TimeUnit.SECONDS);
    assertThat(refused.getString("type")).isEqualTo("error");
    assertThat(refused.getString("code")).isEqualTo("rate_limit_exceeded");
    assertThat(refused.getLong("retryAfter")).isPositive();
    ws.close();
    HttpResponse<String> sse = h.send(h.request("/widget/chat").header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(new JsonObject()
            .put("text", "third").put("clientMessageId", "sse-limited").encode())));
    assertThat(sse.statusCode()).isEqualTo(429);
    assertThat(sse.headers().firstValue("Retry-After")).isPresent();
    assertThat(h.count("SELECT count(*) FROM messages WHERE content IN ('second', 'third')")).isZero();
  }
}
