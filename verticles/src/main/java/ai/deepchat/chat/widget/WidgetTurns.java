package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.handoff.Handoffs;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.policy.ratelimit.RequestLimits;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** Starts a visitor's turn from a widget message and forwards its events in the widget protocol. */
final class WidgetTurns {

  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");

  /** A parsed {"type":"message","text","conversationId","clientMessageId"}. */
  record WidgetMessage(String text, UUID conversationId, String clientMessageId) {

    static WidgetMessage parse(JsonObject o) {
      Object text = o.getValue("text");
      if (!(text instanceof String t) || t.isBlank()) {
        throw HttpProblem.badRequest("invalid_text", "'text' must be a non-empty string.");
      }
      Object conv = o.getValue("conversationId");
      UUID conversationId = null;
      if (conv != null) {
        try {
          conversationId = UUID.fromString((String) conv);
        } catch (ClassCastException | IllegalArgumentException e) {
          throw HttpProblem.badRequest("invalid_conversation_id", "'conversationId' must be a UUID or null.");
        }
      }
      Object id = o.getValue("clientMessageId");
      if (!(id instanceof String cid) || !CLIENT_ID.matcher(cid).matches()) {
        throw HttpProblem.badRequest("invalid_client_message_id",
            "'clientMessageId' must be 1 to 100 letters, digits, '-' or '_' (a UUID is ideal).");
      }
      return new WidgetMessage(t, conversationId, cid);
    }
  }

  private final TurnClient turns;
  private final RequestLimits limits;
  private final Handoffs handoffs;

  WidgetTurns(TurnClient turns, RequestLimits limits, Handoffs handoffs) {
    this.turns = turns;
    this.limits = limits;
    this.handoffs = handoffs;
  }

  /**
   * Runs one turn; {@code out} receives start, delta, citations, then done or error (each a JSON object's text). The returned
   * canceller (after the ack) stops the turn when the visitor leaves; a refused turn (rate limit, bad
   * conversation) fails the future. In a conversation handed to a person the bot stays silent: the
   * message is stored for the staff and {@code out} receives one {@code visitor.stored} frame. A handoff
   * answer (the visitor asked for a person, or the bot could not answer again) may escalate the
   * conversation once the answer is done. {@code receivedAtMicros}: when the message arrived (wall clock, epoch
   * microseconds), where the platform's added time to first token starts.
   */
  Future<Runnable> run(VisitorTokens.Visitor visitor, WidgetMessage m, long receivedAtMicros,
                       Consumer<String> out, Runnable onEnd) {
    return RateLimited.checkVisitor(limits, visitor.tenantId(), visitor.visitorId())
        .compose(allowed -> handoffs.visitorMessage(visitor.tenantId(), visitor.visitorId(), m.conversationId(),
            m.text(), idempotencyKey(m)))
        .compose(stored -> {
          if (stored == null) {
            return start(visitor, m, receivedAtMicros, out, onEnd).map(stream -> (Runnable) stream::cancel);
          }
          out.accept(new JsonObject().put("type", "visitor.stored").put("conversation_id", stored.getString("conversation_id"))
              .put("id", stored.getString("id")).put("client_message_id", m.clientMessageId()).encode());
          onEnd.run();
          return Future.succeededFuture(() -> { });
        });
  }

  private static String idempotencyKey(WidgetMessage m) {
    return "widget:" + m.clientMessageId();
  }

  private Future<TurnClient.Stream> start(VisitorTokens.Visitor visitor, WidgetMessage m, long receivedAtMicros,
                                          Consumer<String> out, Runnable onEnd) {
    String turnId = UUID.randomUUID().toString();
    TurnRequest req = new TurnRequest(turnId, visitor.tenantId().toString(), ChatMessages.CHANNEL_WIDGET,
        m.conversationId() == null ? null : m.conversationId().toString(), visitor.visitorId(),
        idempotencyKey(m), List.of(new ChatMessage("user", m.text())), null, null,
        null); // events address: set by TurnClient
    TurnClient.Stream stream = turns.start(req, receivedAtMicros);
    return stream.ack().map(ack -> {
      out.accept(WidgetEvents.start(ack).encode());
      stream.handler(event -> {
        out.accept(WidgetEvents.text(event, ack));
        if (event.terminal()) {
          onEnd.run();
          if (event.kind() == ChatMessages.TurnEvent.Kind.DONE && RouteDecision.HANDOFF.equals(event.intent())) {
            handoffs.afterHandoffAnswer(visitor.tenantId(), visitor.visitorId(), UUID.fromString(ack.conversationId()),
                event.score());
          }
        }
      });
      return stream;
    });
  }

}
