package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.JsonText;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.chat.conversation.Citations;
import ai.deepchat.chat.conversation.FaqMatchJson;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import io.vertx.core.json.JsonObject;

/** The widget protocol's server → client messages (shared by the WebSocket and the SSE fallback). */
final class WidgetEvents {

  private WidgetEvents() {
  }

  static JsonObject start(TurnAck ack) {
    return new JsonObject().put("type", "start").put("conversationId", ack.conversationId())
        .put("messageId", ack.assistantMessageId());
  }

  /**
   * {@link #of} as JSON text; a text delta, the message sent per token, is written straight as text with
   * the encoder's own string escape (the same bytes, no tree per delta: #25).
   */
  static String text(TurnEvent e, TurnAck ack) {
    if (e.kind() != TurnEvent.Kind.DELTA) {
      return of(e, ack).encode();
    }
    StringBuilder sb = new StringBuilder(32 + (e.content() == null ? 0 : e.content().length())
        + (e.reasoning() == null ? 0 : e.reasoning().length())).append("{\"type\":\"delta\"");
    if (e.content() != null) {
      JsonText.quoted(sb.append(",\"content\":"), e.content());
    }
    if (e.reasoning() != null) {
      JsonText.quoted(sb.append(",\"reasoning\":"), e.reasoning());
    }
    return sb.append('}').toString();
  }

  static JsonObject of(TurnEvent e, TurnAck ack) {
    return switch (e.kind()) {
      case DELTA -> {
        JsonObject o = new JsonObject().put("type", "delta");
        if (e.content() != null) {
          o.put("content", e.content());
        }
        if (e.reasoning() != null) {
          o.put("reasoning", e.reasoning());
        }
        yield o;
      }
      case CITATIONS -> new JsonObject().put("type", "citations").put("citations", Citations.toJson(e.citations()));
      case DONE -> FaqMatchJson.addTo(new JsonObject().put("type", "done").put("messageId", ack.assistantMessageId())
          .put("intent", e.intent()).put("usage", new JsonObject()
              .put("prompt_tokens", e.usage() == null ? 0 : e.usage().promptTokens())
              .put("completion_tokens", e.usage() == null ? 0 : e.usage().completionTokens())), e);
      case ERROR -> error(e.errorCode(), e.error());
    };
  }

  static JsonObject error(String code, String message) {
    return new JsonObject().put("type", "error").put("code", code).put("message", message);
  }

  static JsonObject error(Throwable err) {
    if (err instanceof RateLimited limited) {
      return error("rate_limit_exceeded", limited.getMessage()).put("retryAfter", limited.decision().retryAfterSeconds());
    }
    HttpProblem p = HttpProblem.of(err);
    return error(p.code(), p.getMessage());
  }
}
