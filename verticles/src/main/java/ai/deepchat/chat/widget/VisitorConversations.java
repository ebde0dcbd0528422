package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/** What a visitor may see and touch: only its own widget conversations, under its tenant. */
final class VisitorConversations {

  private static final int HISTORY_LIMIT = 500;

  private final Database db;

  VisitorConversations(Database db) {
    this.db = db;
  }

  Future<UUID> latest(VisitorTokens.Visitor visitor) {
    return db.inTenant(visitor.tenantId(), c -> c.preparedQuery("SELECT id FROM conversations "
            + "WHERE visitor_id = $1 AND channel = 'widget' ORDER BY updated_at DESC LIMIT 1")
        .execute(Tuple.of(visitor.visitorId()))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0)));
  }

  /** The conversation's messages; a conversation that is not the visitor's is "not found". */
  Future<JsonObject> history(VisitorTokens.Visitor visitor, UUID conversationId) {
    Future<UUID> which = conversationId == null ? latest(visitor) : Future.succeededFuture(conversationId);
    return which.compose(id -> {
      if (id == null) {
        return Future.succeededFuture(new JsonObject().putNull("conversationId").put("messages", new JsonArray()));
      }
      return db.inTenant(visitor.tenantId(), c -> c.preparedQuery("SELECT 1 FROM conversations "
              + "WHERE id = $1 AND visitor_id = $2 AND channel = 'widget'").execute(Tuple.of(id, visitor.visitorId()))
          .compose(owned -> owned.size() == 0
              ? Future.failedFuture(HttpProblem.notFound("conversation_not_found", "No such conversation."))
              // agents' replies too (never their internal notes)
              // (under the agent's display name, never the e-mail)
              : c.preparedQuery("SELECT id, role, content, citations, feedback, status, created_at, NULL AS agent "
                  + "FROM messages WHERE conversation_id = $1 AND role IN ('user', 'assistant') AND status <> 'streaming' "
                  + "UNION ALL SELECT h.id, 'agent', h.text, '[]'::jsonb, NULL, 'complete', h.created_at, "
                  + "coalesce(nullif(btrim(u.display_name), ''), 'Support') FROM handoff_messages h "
                  + "LEFT JOIN users u ON u.id = h.author_id WHERE h.conversation_id = $1 AND h.kind = 'agent' "
                  + "ORDER BY created_at, id LIMIT " + HISTORY_LIMIT).execute(Tuple.of(id)))
          .map(rows -> {
            JsonArray messages = new JsonArray();
            for (Row r : rows) {
              messages.add(new JsonObject().put("id", r.getUUID("id").toString()).put("role", r.getString("role"))
                  .put("content", r.getString("content"))
                  .put("citations", r.getJsonArray("citations") == null ? new JsonArray() : r.getJsonArray("citations"))
                  .put("feedback", r.getShort("feedback") == null ? null : r.getShort("feedback").intValue())
                  .put("status", r.getString("status")));
              if (r.getString("agent") != null) {
                messages.getJsonObject(messages.size() - 1).put("agent", new JsonObject().put("name", r.getString("agent")));
              }
            }
            return new JsonObject().put("conversationId", id.toString()).put("messages", messages);
          }));
    });
  }

  /**
   * Stores the visitor's rating and, when given, its comment (a rating without one keeps an earlier
   * comment); returns the tenant model version that wrote the answer (null if none).
   */
  Future<UUID> feedback(VisitorTokens.Visitor visitor, UUID messageId, int value, String comment) {
    // $1 cast to the base type: were the column a domain (as V60 made the text columns), the parameter would be
    // described by the domain's type, which the client encodes only from a String
    return db.inTenant(visitor.tenantId(), c -> c.preparedQuery("UPDATE messages m SET feedback = $1::smallint, "
            + "feedback_comment = coalesce($4, m.feedback_comment), updated_at = now() "
            + "FROM conversations cv WHERE m.id = $2 AND m.role = 'assistant' AND cv.id = m.conversation_id "
            + "AND cv.visitor_id = $3 AND cv.channel = 'widget' RETURNING m.model_version_id")
        .execute(Tuple.of((short) value, messageId, visitor.visitorId(), comment))
        .compose(rows -> rows.rowCount() == 1 ? Future.succeededFuture(rows.iterator().next().getUUID(0))
            : Future.failedFuture(HttpProblem.notFound("message_not_found", "No such answer."))));
  }
}
