package ai.deepchat.console.audit;

import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The audit log, newest first, filtered by actor, action and date range (UTC days, inclusive). */
public final class AuditRoutes {

  private static final int LIMIT = 200;
  /** Characters of the one-line details shown before they are opened. */
  private static final int SUMMARY_CHARS = 80;

  private final Database database;
  private final Views views;

  public AuditRoutes(Database database, Views views) {
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/audit", ConsoleRole.ADMIN, this::list);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    String actor = ctx.request().getParam("actor", "").strip();
    String action = ctx.request().getParam("action", "").strip();
    LocalDate from = date(ctx.request().getParam("from", ""));
    LocalDate to = date(ctx.request().getParam("to", ""));
    if (actor.length() > 200 || action.length() > 100) {
      throw ConsoleException.badRequest("error.invalid", "filter");
    }
    String actorLike = "%" + actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT id, actor, action, target, ip, details, "
                + "created_at FROM audit_log WHERE ($1 = '%%' OR actor ILIKE $1) AND ($2 = '' OR action = $2 "
                + "OR action LIKE $2 || '.%') AND ($3::date IS NULL OR created_at >= $3::date) "
                + "AND ($4::date IS NULL OR created_at < $4::date + 1) ORDER BY id DESC LIMIT " + LIMIT)
            .execute(Tuple.of(actorLike, action, from, to))
            .compose(rows -> c.query("SELECT DISTINCT action FROM audit_log ORDER BY action").execute()
                .map(actions -> {
                  Map<String, Object> model = new HashMap<>();
                  model.put("section", "audit");
                  List<Map<String, Object>> entries = Rows.maps(rows);
                  entries.forEach(m -> details(m, castMap(m.get("details"))));
                  model.put("entries", entries);
                  model.put("actions", Rows.maps(actions).stream().map(m -> m.get("action")).toList());
                  model.put("actor", actor);
                  model.put("action", action);
                  model.put("from", from == null ? "" : from.toString());
                  model.put("to", to == null ? "" : to.toString());
                  return model;
                })))
        .compose(model -> views.render(ctx, "audit", model));
  }

  /**
   * An entry's details for the page: a one-line summary (shortened) that opens onto the indented JSON,
   * so a long change (a word list, a prompt) does not widen the table; none when there are none.
   */
  private static void details(Map<String, Object> entry, Map<String, Object> details) {
    if (details.isEmpty()) {
      return;
    }
    JsonObject json = new JsonObject(details);
    String line = json.encode();
    entry.put("detailsSummary", line.length() <= SUMMARY_CHARS ? line : line.substring(0, SUMMARY_CHARS - 1) + "…");
    entry.put("detailsPretty", json.encodePrettily());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static LocalDate date(String v) {
    if (v.isBlank()) {
      return null;
    }
    try {
      return LocalDate.parse(v.strip());
    } catch (DateTimeParseException e) {
      throw ConsoleException.badRequest("error.invalid", "date");
    }
  }
}
