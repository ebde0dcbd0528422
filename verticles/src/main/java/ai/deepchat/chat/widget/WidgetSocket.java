package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.platform.db.Database;
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
            .onSuccess(ws -> new Session(ws, visitor).open())
            .onFailure(err -> {
              if (!ctx.response().ended()) {
                HttpProblem.badRequest("websocket_required", "Connect with a WebSocket upgrade.").send(ctx);
              }
            }));
  }

  private final class Session {
    private final ServerWebSocket ws;
    private final VisitorTokens.Visitor visitor;
    private TurnClient.Stream running;
    private boolean busy;
    private boolean closed;

    Session(ServerWebSocket ws, VisitorTokens.Visitor visitor) {
      this.ws = ws;
      this.visitor = visitor;
    }

    void open() {
      ws.textMessageHandler(this::onText);
      ws.binaryMessageHandler(b -> send(WidgetEvents.error("invalid_message", "Send JSON text frames.")));
      ws.closeHandler(v -> {
        closed = true;
        if (running != null) {
          running.cancel();
        }
      });
    }

    private void onText(String text) {
      JsonObject msg;
      try {
        msg = new JsonObject(text);
      } catch (DecodeException e) {
        send(WidgetEvents.error("invalid_json", "Messages must be JSON objects."));
        return;
      }
      String type = msg.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "ping" -> send(new JsonObject().put("type", "pong"));
        case "pong" -> {
          // keepalive answer from the client
        }
        case "message" -> onMessage(msg);
        default -> send(WidgetEvents.error("invalid_type", "Unknown message type '" + type + "'."));
      }
    }

    private void onMessage(JsonObject msg) {
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
      busy = true;
      turns.run(visitor, m, this::send, () -> {
            busy = false;
            running = null;
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
            send(WidgetEvents.error(err));
          });
    }

    private void send(JsonObject event) {
      if (!closed) {
        ws.writeTextMessage(event.encode());
      }
    }
  }
}
