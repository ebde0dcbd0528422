package ai.deepchat.console.overview;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overview's satisfaction figures: visitors' 1-5 ratings of conversations staff resolved (mean and
 * distribution), staff's time to first reply (from the queue to the first agent message) and the queue
 * now, and per model version the conversations it served with their answers, thumbs,
 * ratings, deflection and time to first token, so a canary can be judged against the stable version.
 * A conversation counts for the version it was assigned (conversations.model_version_id).
 */
final class SatisfactionFigures {

  private SatisfactionFigures() {
  }

  /**
   * Puts {@code ratingMean}, {@code ratingCount}, {@code ratingBars}, {@code humanFirst50},
   * {@code humanFirst95} (seconds), {@code queued} and {@code versions} into {@code model}.
   */
  static Future<?> fill(SqlConnection c, Map<String, Object> model, int days) {
    String window = "now() - interval '" + days + " days'";
    Future<?> ratings = c.query("SELECT s AS score, count(r.id) AS n FROM generate_series(1, 5) s "
            + "LEFT JOIN conversation_ratings r ON r.score = s AND r.created_at > " + window + " GROUP BY s ORDER BY s")
        .execute()
        .onSuccess(rows -> {
          Map<String, Long> counts = new LinkedHashMap<>();
          long n = 0;
          long sum = 0;
          for (Row r : rows) {
            long count = r.getLong("n");
            counts.put(String.valueOf(r.getInteger("score")), count);
            n += count;
            sum += count * r.getInteger("score");
          }
          model.put("ratingCount", n);
          model.put("ratingMean", n == 0 ? null : Math.round(100.0 * sum / n) / 100.0);
          model.put("ratingBars", n == 0 ? List.of() : Charts.shares(counts));
        });
    Future<?> staff = c.query("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - queued_at)) "
            + "AS first50, percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - queued_at)) "
            + "AS first95, (SELECT count(*) FROM handoffs WHERE state = 'queued') AS queued FROM handoffs "
            + "WHERE first_reply_at IS NOT NULL AND queued_at > " + window).execute()
        .onSuccess(rows -> {
          Row r = rows.iterator().next();
          model.put("humanFirst50", r.getValue("first50") == null ? null : Math.round(r.getDouble("first50")));
          model.put("humanFirst95", r.getValue("first95") == null ? null : Math.round(r.getDouble("first95")));
          model.put("queued", r.getLong("queued"));
        });
    Future<?> versions = c.query("WITH conv AS (SELECT id, model_version_id AS v FROM conversations "
            + "WHERE created_at > " + window + "), "
            + "answers AS (SELECT conv.v, count(*) AS answers, count(*) FILTER (WHERE m.feedback = 1) AS up, "
            + "count(*) FILTER (WHERE m.feedback = -1) AS down, "
            + "percentile_cont(0.5) WITHIN GROUP (ORDER BY m.first_token_ms) AS first50 "
            + "FROM messages m JOIN conv ON conv.id = m.conversation_id "
            + "WHERE m.role = 'assistant' AND m.status = 'complete' GROUP BY conv.v), "
            + "handled AS (SELECT conv.v, count(*) AS answered, count(*) FILTER (WHERE NOT t.handed_over) AS deflected "
            + "FROM (SELECT conversation_id, bool_or(intent = 'handoff') OR EXISTS (SELECT 1 FROM handoffs h "
            + "WHERE h.conversation_id = m.conversation_id) AS handed_over FROM messages m "
            + "WHERE role = 'assistant' AND status = 'complete' GROUP BY conversation_id) t "
            + "JOIN conv ON conv.id = t.conversation_id GROUP BY conv.v), "
            + "rated AS (SELECT conv.v, count(*) AS ratings, avg(r.score) AS mean FROM conversation_ratings r "
            + "JOIN conv ON conv.id = r.conversation_id GROUP BY conv.v) "
            + "SELECT mv.name, mv.state, a.answers, a.up, a.down, a.first50, h.answered, h.deflected, r.ratings, r.mean "
            + "FROM answers a LEFT JOIN handled h ON h.v IS NOT DISTINCT FROM a.v "
            + "LEFT JOIN rated r ON r.v IS NOT DISTINCT FROM a.v LEFT JOIN model_versions mv ON mv.id = a.v "
            + "ORDER BY a.answers DESC, mv.name").execute()
        .onSuccess(rows -> {
          List<Map<String, Object>> list = new ArrayList<>();
          for (Row r : rows) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("name", r.getString("name"));
            v.put("state", r.getString("state"));
            v.put("answers", r.getLong("answers"));
            long up = r.getLong("up");
            long down = r.getLong("down");
            v.put("positive", up + down == 0 ? null : Math.round(100.0 * up / (up + down)));
            v.put("feedback", up + down);
            v.put("first50", r.getValue("first50") == null ? null : Math.round(r.getDouble("first50")));
            Long answered = r.getLong("answered");
            v.put("deflection", answered == null || answered == 0 ? null
                : Math.round(1000.0 * r.getLong("deflected") / answered) / 10.0);
            v.put("ratings", r.getLong("ratings") == null ? 0L : r.getLong("ratings"));
            v.put("ratingMean", r.getValue("mean") == null ? null : Math.round(100.0 * r.getDouble("mean")) / 100.0);
            list.add(v);
          }
          model.put("versions", list);
        });
    return Future.all(ratings, staff, versions);
  }
}
