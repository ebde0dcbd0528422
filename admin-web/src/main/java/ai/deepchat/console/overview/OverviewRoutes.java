package ai.deepchat.console.overview;

import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overview: the last 30 days of conversations (per channel), answers per intent, time to first token
 * and answer time as each answer measured them, feedback, the share of answers given from FAQ entries
 * without the model, the deflection rate (conversations answered without a handoff to people), and
 * visitors' ratings, staff's time to first reply and the queue, overall and per model version
 * ({@link SatisfactionFigures}).
 */
public final class OverviewRoutes {

  private static final int DAYS = 30;

  private final Database database;
  private final Views views;

  public OverviewRoutes(Database database, Views views) {
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/", ConsoleRole.VIEWER, this::overview);
  }

  private Future<?> overview(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> {
      Map<String, Object> model = new HashMap<>();
      model.put("section", "overview");
      Future<?> perDay = c.query("SELECT d::date AS day, count(cv.id) AS n FROM generate_series("
              + "current_date - " + (DAYS - 1) + ", current_date, interval '1 day') d "
              + "LEFT JOIN conversations cv ON cv.created_at >= d AND cv.created_at < d + interval '1 day' "
              + "GROUP BY d ORDER BY d").execute()
          .onSuccess(rows -> {
            List<String> labels = new ArrayList<>();
            List<Long> values = new ArrayList<>();
            long total = 0;
            for (Row r : rows) {
              LocalDate day = r.getLocalDate("day");
              labels.add(day.toString());
              values.add(r.getLong("n"));
              total += r.getLong("n");
            }
            model.put("conversations", total);
            model.put("conversationBars", Charts.columns(labels, values));
            model.put("firstDay", labels.isEmpty() ? "" : labels.get(0));
            model.put("lastDay", labels.isEmpty() ? "" : labels.get(labels.size() - 1));
          });
      Future<?> intents = c.query("SELECT coalesce(intent, 'other') AS intent, count(*) AS n FROM messages "
              + "WHERE role = 'assistant' AND created_at > now() - interval '" + DAYS + " days' "
              + "GROUP BY 1 ORDER BY 2 DESC").execute()
          .onSuccess(rows -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            long answers = 0;
            long faq = 0;
            for (Row r : rows) {
              counts.put(r.getString("intent"), r.getLong("n"));
              answers += r.getLong("n");
              if ("faq".equals(r.getString("intent"))) {
                faq += r.getLong("n");
              }
            }
            model.put("answers", answers);
            model.put("intentBars", Charts.shares(counts));
            model.put("faqShare", answers == 0 ? null : Math.round(1000.0 * faq / answers) / 10.0);
          });
      // the times each answer stored (V25): from the turn's arrival to its first token and to its end
      Future<?> latency = c.query("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY first_token_ms) AS first50, "
              + "percentile_cont(0.95) WITHIN GROUP (ORDER BY first_token_ms) AS first95, "
              + "percentile_cont(0.5) WITHIN GROUP (ORDER BY answer_ms) AS total50, "
              + "percentile_cont(0.95) WITHIN GROUP (ORDER BY answer_ms) AS total95 FROM messages "
              + "WHERE role = 'assistant' AND status = 'complete' AND answer_ms IS NOT NULL "
              + "AND created_at > now() - interval '" + DAYS + " days'").execute()
          .onSuccess(rows -> {
            Row r = rows.iterator().next();
            for (String k : List.of("first50", "first95", "total50", "total95")) {
              model.put(k, r.getValue(k) == null ? null : Math.round(r.getDouble(k)));
            }
          });
      // deflection: conversations with an answer in which no answer handed the visitor over to people,
      // and that never went to staff (a handoff, V26)
      Future<?> deflection = c.query("SELECT count(*) AS answered, count(*) FILTER (WHERE NOT handed_over) AS deflected "
              + "FROM (SELECT bool_or(intent = 'handoff') OR EXISTS (SELECT 1 FROM handoffs h "
              + "WHERE h.conversation_id = m.conversation_id) AS handed_over FROM messages m WHERE role = 'assistant' "
              + "AND status = 'complete' AND created_at > now() - interval '" + DAYS + " days' "
              + "GROUP BY conversation_id) t").execute()
          .onSuccess(rows -> {
            Row r = rows.iterator().next();
            long answered = r.getLong("answered");
            model.put("deflection", answered == 0 ? null : Math.round(1000.0 * r.getLong("deflected") / answered) / 10.0);
          });
      Future<?> channels = c.query("SELECT channel, count(*) AS n FROM conversations "
              + "WHERE created_at >= current_date - " + (DAYS - 1) + " GROUP BY channel ORDER BY channel").execute()
          .onSuccess(rows -> {
            Map<String, Long> perChannel = new LinkedHashMap<>();
            rows.forEach(r -> perChannel.put(r.getString("channel"), r.getLong("n")));
            model.put("channels", perChannel);
          });
      Future<?> feedback = c.query("SELECT count(*) FILTER (WHERE feedback = 1) AS up, "
              + "count(*) FILTER (WHERE feedback = -1) AS down FROM messages "
              + "WHERE created_at > now() - interval '" + DAYS + " days'").execute()
          .onSuccess(rows -> {
            Row r = rows.iterator().next();
            long up = r.getLong("up");
            long down = r.getLong("down");
            model.put("feedbackUp", up);
            model.put("feedbackDown", down);
            model.put("satisfaction", up + down == 0 ? null : Math.round(100.0 * up / (up + down)));
          });
      Future<?> satisfaction = SatisfactionFigures.fill(c, model, DAYS);
      return Future.all(List.of(perDay, intents, latency, deflection, channels, feedback, satisfaction)).map(x -> model);
    }).compose(model -> views.render(ctx, "overview", model));
  }
}
