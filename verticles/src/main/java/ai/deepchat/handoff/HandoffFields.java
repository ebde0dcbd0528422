package ai.deepchat.handoff;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * What the handoff service reads from requests and writes to clients: field validation (a 400 naming
 * the field), timestamps, the visitor's view of an agent, and the queue frames with their expected wait.
 */
final class HandoffFields {

  /** Used when neither the queue's history nor the staff online says better. */
  static final int DEFAULT_WAIT_SECONDS = 60;
  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");

  private HandoffFields() {
  }

  /**
   * The recent average wait per place in the queue and the agents online ($2: the presence timeout), for
   * the expected wait: per place times the position, over the agents online.
   */
  static final String WAIT_FIGURES = "(SELECT avg(extract(epoch FROM w.assigned_at - w.queued_at)) FROM "
      + "(SELECT assigned_at, queued_at FROM handoffs WHERE assigned_at IS NOT NULL ORDER BY assigned_at DESC LIMIT 50) w) "
      + "AS avg_wait, (SELECT count(*) FROM agent_presence p WHERE p.presence = 'online' "
      + "AND p.last_seen > now() - make_interval(secs => $2)) AS online ";

  static JsonObject queued(Row figures, long position) {
    Object avg = figures.getValue("avg_wait");
    double perPlace = avg instanceof Number n ? n.doubleValue() : DEFAULT_WAIT_SECONDS;
    long online = Math.max(1, figures.getLong("online"));
    return new JsonObject().put("state", "queued").put("position", position)
        .put("expected_wait_s", Math.round(perPlace * position / online));
  }

  /** A visitor event of {@code type} from a status: its fields without the state. */
  static JsonObject frame(String type, UUID conversationId, JsonObject status) {
    JsonObject f = status.copy().put("type", type).put("conversation_id", conversationId.toString());
    f.remove("state");
    return f;
  }

  /** What a visitor sees of an agent: the display name, never the e-mail address. */
  static String visibleName(String displayName) {
    return displayName == null || displayName.isBlank() ? "Support" : displayName;
  }

  static String time(OffsetDateTime t) {
    return t == null ? null : t.toInstant().toString();
  }

  static UUID id(Object value, String field) {
    try {
      return UUID.fromString((String) value);
    } catch (ClassCastException | IllegalArgumentException | NullPointerException e) {
      throw HandoffException.badRequest("invalid_" + field, "'" + field + "' must be a UUID.");
    }
  }

  static String text(Object value, String field, int max, boolean required) {
    if (value == null && !required) {
      return null;
    }
    if (!(value instanceof String s) || (required && s.isBlank()) || s.length() > max) {
      throw HandoffException.badRequest("invalid_" + field, "'" + field + "' must be " + (required ? "a non-empty" : "a")
          + " string of at most " + max + " characters.");
    }
    return s.isBlank() ? null : s;
  }

  static String clientId(Object value) {
    if (!(value instanceof String s) || !CLIENT_ID.matcher(s).matches()) {
      throw HandoffException.badRequest("invalid_client_id",
          "'client_id' must be 1 to 100 letters, digits, '-' or '_' (a UUID is ideal).");
    }
    return s;
  }
}
