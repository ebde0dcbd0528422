package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * A widget visitor: a session (POST /widget/session), one WebSocket, then turns in conversations of
 * {@code turnsPerConversation} turns (each turn's prompt carries the conversation so far).
 * Delta frames are recognised by their prefix rather than parsed, to keep the load generator's CPU
 * for the platform on a small machine; the other frames are parsed.
 */
final class WidgetVisitor extends LoadClient {

  private static final String DELTA_PREFIX = "{\"type\":\"delta\"";

  private final HttpClient http;
  private final WebSocketClient ws;
  private final String key;
  private final String origin;
  private final int turnsPerConversation;
  private int turnsInConversation;
  private WebSocket socket;
  private String conversationId;
  private StepStats.Turn turn;

  WidgetVisitor(Vertx vertx, StepStats stats, String message, long thinkMs, HttpClient http, WebSocketClient ws,
                String key, String origin, int turnsPerConversation) {
    super(vertx, stats, message, thinkMs);
    this.http = http;
    this.ws = ws;
    this.key = key;
    this.origin = origin;
    this.turnsPerConversation = Math.max(1, turnsPerConversation);
  }

  @Override
  Future<Void> start() {
    open().onSuccess(s -> nextTurn()).onFailure(err -> {
      stats.error("connect:" + err.getMessage(), System.nanoTime());
      finished.tryComplete();
    });
    return finished.future();
  }

  /** The session and the socket, no turn (the idle connections of the memory measurement). */
  Future<WebSocket> open() {
    return session().compose(this::connect).map(s -> {
      socket = s;
      s.textMessageHandler(this::onFrame);
      s.closeHandler(v -> {
        if (!finished.future().isComplete()) {
          fail("socket_closed");
          finished.tryComplete();
        }
      });
      s.exceptionHandler(err -> stats.error("socket:" + err.getClass().getSimpleName(), System.nanoTime()));
      return s;
    });
  }

  private Future<String> session() {
    return http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/widget/session")
            .putHeader("Origin", origin).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(new JsonObject().put("key", key).encode()))
        .compose(resp -> resp.body().map(body -> {
          if (resp.statusCode() != 200) {
            throw new IllegalStateException("session " + resp.statusCode() + " " + body);
          }
          return new JsonObject(body).getString("visitorToken");
        }));
  }

  private Future<WebSocket> connect(String token) {
    return ws.connect(new WebSocketConnectOptions().setURI("/widget/ws?token=" + token).addHeader("Origin", origin));
  }

  @Override
  protected void sendTurn() {
    if (turnsInConversation++ == turnsPerConversation) {
      conversationId = null; // a new conversation
      turnsInConversation = 1;
    }
    turn = stats.new Turn();
    socket.writeTextMessage(new JsonObject().put("type", "message").put("text", message())
        .put("conversationId", conversationId).put("clientMessageId", UUID.randomUUID().toString()).encode());
  }

  @Override
  protected void disconnect() {
    finished.tryComplete(); // before the close handler, which would count a close as an error
    socket.close();
  }

  void close() {
    disconnect();
  }

  private void onFrame(String text) {
    long now = System.nanoTime();
    if (text.startsWith(DELTA_PREFIX)) {
      if (turn != null) {
        turn.delta(now);
      }
      return;
    }
    JsonObject frame = new JsonObject(text);
    switch (frame.getString("type", "")) {
      case "start" -> conversationId = frame.getString("conversationId");
      case "done" -> {
        JsonObject usage = frame.getJsonObject("usage");
        if (turn != null) {
          turn.done(now, usage == null ? 0 : usage.getInteger("completion_tokens", 0));
        }
        turn = null;
        endTurn();
      }
      case "error" -> {
        turn = null;
        fail(frame.getString("code", "error"));
      }
      default -> {
        // citations, pong: nothing to measure
      }
    }
  }
}
