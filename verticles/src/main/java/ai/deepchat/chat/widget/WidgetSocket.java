package ai.deepchat.chat.widget;

import ai.deepchat.gateway.GatewayAdmission;
import ai.deepchat.platform.http.NulText;
import ai.deepchat.gateway.StreamLimitHandler;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.engine.EngineStamp;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code /widget/ws?token=...}: the visitor token and the Origin (required: only browsers open this)
 * are checked before the upgrade. One turn runs at a time per socket; closing the socket cancels it.
 */
final class WidgetSocket {

  private final VisitorTokens tokens;
  private final WidgetTurns turns;
  private final Database db;

  WidgetSocket(VisitorTokens tokens, WidgetTurns turns, Database db) {
    this.tokens = tokens;
    this.turns = turns;
    this.db = db;
  }

  void upgrade(RoutingContext ctx) {
    ctx.request().pause();
    tokens.verify(ctx.request().getParam("token"))
        .compose(v -> WidgetSettings.load(db, v.tenantId()).map(s -> {
          s.checkOrigin(ctx.request().getHeader("Origin"), true, null);
          return v;
        }))
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
    private TurnClient.Stream running;
    private boolean busy;
    private boolean closed;
    private GatewayAdmission.Permit permit; // the gateway's stream slot, held for one turn

    Session(io.vertx.core.Vertx vertx, ServerWebSocket ws, VisitorTokens.Visitor visitor) {
      this.vertx = vertx;
      this.ws = ws;
      this.visitor = visitor;
    }

    void open() {
      ws.textMessageHandler(this::onText);
      ws.binaryMessageHandler(b -> send(WidgetEvents.error("invalid_message", "Send JSON text frames.")));
      ws.closeHandler(v -> {
        closed = true;
        release();
        if (running != null) {
          running.cancel();
        }
      });
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
      turns.run(visitor, m, receivedAtMicros, this::send, () -> {
            busy = false;
            running = null;
            release();
          })
          .onSuccess(stream -> {
            if (closed) {
              stream.cancel();
            } else if (busy) {
              running = stream;
            }
          })
          .onFailure(err -> {
            busy = false;
            release();
            send(WidgetEvents.error(err));
          });
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
      if (!closed) {
        ws.writeTextMessage(event.encode());
      }
    }
  }
}
