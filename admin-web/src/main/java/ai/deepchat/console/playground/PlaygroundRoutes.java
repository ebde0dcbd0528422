package ai.deepchat.console.playground;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.chat.conversation.Citations;
import ai.deepchat.chat.conversation.TraceJson;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineStamp;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The playground: staff chat with their own assistant through the real pipeline (the conversation
 * verticles, the router, retrieval, the model the workspace's routing chooses, its word list and
 * plugins) on the console channel, and every answer comes with its trace. The conversation is stored
 * like any other (channel console), so the conversations page shows it with its traces. Editors and up:
 * each message costs the workspace model tokens.
 */
public final class PlaygroundRoutes {

  /** Longer than any workspace allows (the pipeline checks the workspace's own limit). */
  static final int MAX_MESSAGE_CHARS = 16_000;

  private final Views views;
  private final TurnClient turns;

  /** {@code turns}: this gateway instance's turn client (its inbox is per event loop). */
  public PlaygroundRoutes(Views views, TurnClient turns) {
    this.views = views;
    this.turns = turns;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/playground", ConsoleRole.EDITOR, this::page);
    routes.post("/playground/turn", ConsoleRole.EDITOR, this::turn);
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    return views.render(ctx, "playground", Map.of("section", "playground"));
  }

  /**
   * One message ({@code {"message", "conversation"}}, the id of an earlier answer's conversation or none),
   * answered whole as JSON with the turn's trace; errors as {@code {"error": {code, message}}}.
   */
  private Future<?> turn(RoutingContext ctx, ConsoleSession s) {
    long receivedAtMicros = EngineStamp.nowMicros();
    String message;
    UUID conversation;
    try {
      // a JSON body: form fields are capped far below a long message by the HTTP server's form decoder
      JsonObject body = ctx.body().asJsonObject();
      message = body == null || !(body.getValue("message") instanceof String m) ? "" : m.strip();
      if (message.isEmpty() || message.length() > MAX_MESSAGE_CHARS) {
        return error(ctx, 400, "invalid_request", views.message(ctx, message.isEmpty() ? "error.required"
            : "error.tooLong", "message", MAX_MESSAGE_CHARS));
      }
      Object c = body.getValue("conversation");
      conversation = c == null || "".equals(c) ? null : UUID.fromString((String) c);
    } catch (RuntimeException e) { // not JSON, a conversation that is no id
      return error(ctx, 400, "invalid_request", views.message(ctx, "error.invalid", "conversation"));
    }
    // the staff member is the conversation's "visitor": a conversation id of another user's is not found
    TurnRequest req = new TurnRequest(UUID.randomUUID().toString(), s.tenantId().toString(),
        ChatMessages.CHANNEL_CONSOLE, conversation == null ? null : conversation.toString(), "staff:" + s.userId(),
        null, List.of(new ChatMessage("user", message)), null, null, null, true);
    TurnClient.Stream stream = turns.start(req, receivedAtMicros);
    ctx.response().closeHandler(v -> stream.cancel());
    return stream.ack()
        .compose(ack -> answer(stream, ack))
        .compose(body -> body.containsKey("error") ? error(ctx, 502, body.getJsonObject("error"))
            : ctx.json(body))
        .recover(err -> {
          HttpProblem p = HttpProblem.of(err);
          return error(ctx, p.status(), p.code(), p.getMessage());
        });
  }

  /** The whole answer: text, citations, then the final event's intent, usage and trace (or the error). */
  private static Future<JsonObject> answer(TurnClient.Stream stream, TurnAck ack) {
    return stream.whole().map(whole -> {
      TurnEvent event = whole.last();
      if (event.kind() == TurnEvent.Kind.ERROR) {
        return new JsonObject().put("error", new JsonObject().put("code", event.errorCode()).put("message", event.error()));
      }
      return new JsonObject().put("conversationId", ack.conversationId())
          .put("messageId", ack.assistantMessageId()).put("model", ack.model()).put("testModel", ack.testModel())
          .put("content", whole.content()).put("reasoning", whole.reasoning())
          .put("citations", Citations.toJson(whole.citations()))
          .put("intent", event.intent()).put("finishReason", event.finishReason())
          .put("trace", event.trace() == null ? null : TraceJson.toJson(event.trace()));
    });
  }

  private static Future<Void> error(RoutingContext ctx, int status, String code, String message) {
    return error(ctx, status, new JsonObject().put("code", code).put("message", message));
  }

  private static Future<Void> error(RoutingContext ctx, int status, JsonObject error) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return Future.succeededFuture();
    }
    return ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
        .end(new JsonObject().put("error", error).encode());
  }
}
