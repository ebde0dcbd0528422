package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * A visitor's 1-5 rating of a conversation that staff resolved, and the free-text comments visitors add
 * to ratings and to single answers. Only the visitor's own widget conversations, under its tenant.
 */
final class VisitorRatings {

  static final int MAX_COMMENT = 2000;

  /** A parsed {@code POST /widget/rating} body. */
  record Rating(UUID conversationId, int score, String comment) {

    static Rating parse(JsonObject body) {
      UUID conversation;
      try {
        conversation = UUID.fromString((String) body.getValue("conversation_id"));
      } catch (ClassCastException | IllegalArgumentException | NullPointerException e) {
        throw HttpProblem.badRequest("invalid_conversation_id", "'conversation_id' must be a UUID.");
      }
      if (!(body.getValue("score") instanceof Integer score) || score < 1 || score > 5) {
        throw HttpProblem.badRequest("invalid_score", "'score' must be a whole number from 1 to 5.");
      }
      return new Rating(conversation, score, VisitorRatings.comment(body));
    }
  }

  private final Database db;

  VisitorRatings(Database db) {
    this.db = db;
  }

  /**
   * The optional {@code comment} of a body: null when absent or blank, refused when not a string or too
   * long (never cut: the visitor's words are kept whole or not at all).
   */
  static String comment(JsonObject body) {
    Object raw = body.getValue("comment");
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof String text)) {
      throw HttpProblem.badRequest("invalid_comment", "'comment' must be a string.");
    }
    String stripped = text.strip();
    if (stripped.length() > MAX_COMMENT) {
      throw HttpProblem.badRequest("invalid_comment", "'comment' may have at most " + MAX_COMMENT + " characters.");
    }
    return stripped.isEmpty() ? null : stripped;
  }

  /**
   * Stores the rating of the conversation's latest resolved handoff; 404 for a conversation that is not
   * the visitor's, 409 {@code not_resolved} when staff never resolved it, 409 {@code already_rated} when
   * that resolution is rated. Returns the rating's id.
   */
  Future<UUID> rate(VisitorTokens.Visitor visitor, Rating rating) {
    return db.inTenant(visitor.tenantId(), c -> c.preparedQuery("SELECT (SELECT h.id FROM handoffs h "
            + "WHERE h.conversation_id = cv.id AND h.state = 'resolved' ORDER BY h.resolved_at DESC LIMIT 1) AS handoff "
            + "FROM conversations cv WHERE cv.id = $1 AND cv.visitor_id = $2 AND cv.channel = 'widget'")
        .execute(Tuple.of(rating.conversationId(), visitor.visitorId()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(HttpProblem.notFound("conversation_not_found", "No such conversation."));
          }
          UUID handoff = rows.iterator().next().getUUID("handoff");
          if (handoff == null) {
            return Future.failedFuture(new HttpProblem(409, "conflict_error", "not_resolved",
                "Staff have not resolved this conversation; there is nothing to rate yet."));
          }
          return c.preparedQuery("INSERT INTO conversation_ratings (tenant_id, conversation_id, handoff_id, score, comment) "
                  + "VALUES (app_tenant(), $1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id")
              .execute(Tuple.of(rating.conversationId(), handoff, (short) rating.score(), rating.comment()));
        })
        .compose(rows -> rows.rowCount() == 1 ? Future.succeededFuture(rows.iterator().next().getUUID(0))
            : Future.failedFuture(new HttpProblem(409, "conflict_error", "already_rated",
                "This conversation's resolution is already rated."))));
  }
}
