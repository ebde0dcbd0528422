package ai.deepchat.chat.api;

import io.vertx.core.json.JsonObject;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The API's one extension for grouping turns: a request naming an earlier answer's
 * {@code conversation_id} (the body field, or the {@code X-Conversation-Id} header for clients that
 * cannot add body fields) adds its turn to that conversation; without one every call is a conversation
 * of its own, as in plain OpenAI use. The conversation must be this tenant's, made through the API with
 * the same {@code user}; any other id is 404 {@code conversation_not_found}, like every other id of
 * another tenant.
 */
final class ApiConversation {

  static final String FIELD = "conversation_id";
  static final String HEADER = "X-Conversation-Id";
  private static final Pattern UUID_TEXT =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private ApiConversation() {
  }

  /** The conversation a request continues, or null for a new one. */
  static String of(JsonObject body, String header) {
    Object field = body.getValue(FIELD);
    if (field != null && !(field instanceof String)) {
      throw invalid();
    }
    String fromBody = (String) field;
    if (fromBody != null && header != null && !fromBody.equalsIgnoreCase(header.strip())) {
      throw HttpProblem.badRequest("invalid_conversation_id",
          "conversation_id and the X-Conversation-Id header name different conversations.");
    }
    String id = fromBody != null ? fromBody : header == null ? null : header.strip();
    if (id == null) {
      return null;
    }
    if (!UUID_TEXT.matcher(id).matches()) {
      throw invalid();
    }
    return UUID.fromString(id).toString();
  }

  private static HttpProblem invalid() {
    return HttpProblem.badRequest("invalid_conversation_id",
        "conversation_id must be the conversation_id of an earlier completion (a UUID).");
  }
}
