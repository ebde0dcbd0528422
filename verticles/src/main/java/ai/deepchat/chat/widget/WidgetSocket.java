package ai.deepchat.chat.widget;

import ai.deepchat.gateway.GatewayAdmission;
import ai.deepchat.handoff.Handoffs;
import ai.deepchat.platform.http.NulText;
import ai.deepchat.gateway.StreamLimitHandler;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.chat.api.StrictJson;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.CharacterCodingException;

/**
 * {@code /widget/ws?token=...}: the visitor token and the Origin (required: only browsers open this)
 * are checked before the upgrade. One turn runs at a time per socket; closing the socket cancels it.
 * Messages are taken whole and strictly: invalid UTF-8 closes the socket with 1007 and a message over
 * {@link WidgetModule#MAX_BODY} with 1009 (never altered, never dropped in silence). A visitor holds at
 * most {@link VisitorSockets#MAX_PER_VISITOR} sockets per node, and revoked tokens lose theirs (1008).
 */
final class WidgetSocket {

  static final short POLICY_VIOLATION = 1008;
  static final short INVALID_PAYLOAD = 1007;
  static final short TOO_BIG = 1009;
  private static final long TYPING_REPEAT_NANOS = 1_000_000_000L;

  private final VisitorGate gate;
  private final WidgetTurns turns;
  private final VisitorSockets sockets;
  private final Handoffs handoffs;

  WidgetSocket(VisitorGate gate, WidgetTurns turns, VisitorSockets sockets, Handoffs handoffs) {
    this.gate = gate;
    this.turns = turns;
    this.sockets = sockets;
    this.handoffs = handoffs;
  }

  void upgrade(RoutingContext ctx) {
    ctx.request().pause();
    gate.admit(ctx.request().getParam("token"))
        .map(a -> {
          a.settings().checkOrigin(ctx.request().getHeader("Origin"), true, null);
          return a.visitor();
        })
        .onFailure(err -> {
          ctx.request().resume();
          HttpProblem.of(err).send(ctx);
        })
        .onSuccess(visitor -> ctx.request().toWebSocket()
            .onSuccess(ws -> new Session(ctx.vertx(), ws, visitor).open())
            .onFailure(err -> {
              if (!ctx.response().ended()) {
                HttpProblem.badRequest("websocket_required", "Connect with a WebSocket upgrade.").send(ctx);
              }
            }));
  }

  private final class Session {
    private final io.vertx.core.Vertx vertx;
    private final ServerWebSocket ws;
    private final VisitorTokens.Visitor visitor;
    private final VisitorSockets.Socket registration;
    private Runnable running; // cancels the running turn
    private boolean busy;
    private boolean closed;
    private Buffer message; // the frames of a message so far
    private boolean textMessage;
    private GatewayAdmission.Permit permit; // the gateway's stream slot, held for one turn
    private Boolean lastTyping;
    private long lastTypingAt;

    Session(io.vertx.core.Vertx vertx, ServerWebSocket ws, VisitorTokens.Visitor visitor) {
      this.vertx = vertx;
      this.ws = ws;
      this.visitor = visitor;
      Context context = vertx.getOrCreateContext();
      this.registration = new VisitorSockets.Socket() {
        @Override
        public void close() {
          context.runOnContext(x -> ws.close(POLICY_VIOLATION, "visitor_token_revoked"));
        }

        @Override
        public void send(String json) {
          context.runOnContext(x -> {
            if (!closed) {
              ws.writeTextMessage(json);
            }
          });
        }
      };
    }

    void open() {
      ws.frameHandler(this::onFrame);
      ws.closeHandler(v -> {
        closed = true;
        sockets.remove(visitor, registration);
        release();
        if (running != null) {
          running.run();
        }
      });
      if (!sockets.add(visitor, registration)) {
        send(WidgetEvents.error("too_many_sockets", "This visitor has too many open chats; close one and retry."));
        ws.close(POLICY_VIOLATION, "too_many_sockets");
      }
    }

    /** Gathers a message's frames (Vert.x's own aggregation drops big ones silently and decodes leniently). */
    private void onFrame(WebSocketFrame frame) {
      if (frame.isText() || frame.isBinary()) {
        message = Buffer.buffer();
        textMessage = frame.isText();
      } else if (!frame.isContinuation() || message == null) {
        return; // ping, pong and close are Vert.x's
      }
      if (message.length() + frame.binaryData().length() > WidgetModule.MAX_BODY) {
        message = null;
        ws.close(TOO_BIG, "message_too_big: at most " + WidgetModule.MAX_BODY + " bytes");
        return;
      }
      message.appendBuffer(frame.binaryData());
      if (!frame.isFinal()) {
        return;
      }
      Buffer whole = message;
      message = null;
      if (!textMessage) {
        send(WidgetEvents.error("invalid_message", "Send JSON text frames."));
        return;
      }
      String text;
      try {
        text = StrictJson.utf8(whole);
      } catch (CharacterCodingException e) {
        ws.close(INVALID_PAYLOAD, "invalid_utf8");
        return;
      }
      onText(text);
    }

    private void onText(String text) {
      long receivedAtMicros = EngineStamp.nowMicros();
      JsonObject msg;
      try {
        msg = new JsonObject(text);
      } catch (DecodeException e) {
        send(WidgetEvents.error("invalid_json", "Messages must be JSON objects."));
        return;
      }
      String nul = NulText.find(msg);
      if (nul != null) {
        send(WidgetEvents.error("invalid_characters", "'" + nul + "' contains a NUL character (\\u0000)."));
        return;
      }
      String type = msg.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "ping" -> send(new JsonObject().put("type", "pong"));
        case "pong" -> {
          // keepalive answer from the client
        }
        case "message" -> onMessage(msg, receivedAtMicros);
        case "visitor.typing" -> onTyping(msg);
        default -> send(WidgetEvents.error("invalid_type", "Unknown message type '" + type + "'."));
      }
    }

    private void onMessage(JsonObject msg, long receivedAtMicros) {
      if (busy) {
        send(WidgetEvents.error("busy", "Wait for the current answer to finish."));
        return;
      }
      WidgetTurns.WidgetMessage m;
      try {
        m = WidgetTurns.WidgetMessage.parse(msg);
      } catch (HttpProblem p) {
        send(WidgetEvents.error(p.code(), p.getMessage()));
        return;
      }
      if (!admit()) {
        return;
      }
      busy = true;
      turns.run(visitor, m, receivedAtMicros, this::sendText, () -> {
            busy = false;
            running = null;
            release();
          })
          .onSuccess(cancel -> {
            if (closed) {
              cancel.run();
            } else if (busy) {
              running = cancel;
            }
          })
          .onFailure(err -> {
            busy = false;
            release();
            send(WidgetEvents.error(err));
          });
    }

    /** The visitor's typing indicator, for the staff of a conversation in a handoff (else ignored). */
    private void onTyping(JsonObject msg) {
      Object conv = msg.getValue("conversation_id");
      if (!(conv instanceof String c) || !(msg.getValue("typing") instanceof Boolean typing)) {
        send(WidgetEvents.error("invalid_typing", "'visitor.typing' needs 'conversation_id' (a UUID) and 'typing' (true or false)."));
        return;
      }
      java.util.UUID conversationId;
      try {
        conversationId = java.util.UUID.fromString(c);
      } catch (IllegalArgumentException e) {
        send(WidgetEvents.error("invalid_conversation_id", "'conversation_id' must be a UUID."));
        return;
      }
      long now = System.nanoTime();
      if (typing.equals(lastTyping) && now - lastTypingAt < TYPING_REPEAT_NANOS) {
        return; // a repeat within the second: the staff already shows it (and each costs a query)
      }
      lastTyping = typing;
      lastTypingAt = now;
      handoffs.visitorTyping(visitor.tenantId(), visitor.visitorId(), conversationId, typing);
    }

    /** One gateway stream slot per turn (MAX_CONCURRENT_STREAMS); refused turns get an error frame at once. */
    private boolean admit() {
      var admission = GatewayAdmission.find(vertx);
      if (admission.isEmpty()) {
        return true;
      }
      GatewayAdmission.Admitted slot = admission.get().tryAcquireStream();
      if (slot.admitted()) {
        permit = slot.permit();
        return true;
      }
      PlatformMetrics.get().shed(slot.refusal().name().toLowerCase());
      send(WidgetEvents.error(StreamLimitHandler.code(slot.refusal()), switch (slot.refusal()) {
        case DRAINING -> "This server is shutting down; reconnect and retry.";
        case OVERLOAD -> "The service is busy; retry in a few seconds.";
        case NO_MAJORITY -> "This server is cut off from the rest of the service; reconnect and retry.";
      }));
      return false;
    }

    private void release() {
      if (permit != null) {
        permit.close();
        permit = null;
      }
    }

    private void send(JsonObject event) {
      sendText(event.encode());
    }

    private void sendText(String json) {
      if (!closed) {
        ws.writeTextMessage(json);
      }
    }
  }
}
