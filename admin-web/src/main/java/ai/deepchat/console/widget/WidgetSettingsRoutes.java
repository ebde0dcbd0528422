package ai.deepchat.console.widget;

import ai.deepchat.chat.widget.VisitorSockets;
import ai.deepchat.chat.widget.WidgetOrigin;
import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.auth.Csrf;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Widget settings: the exact origins allowed to embed it, its look and language, and the one-line
 * embed snippet. The public key is created with the settings and can be rotated.
 */
public final class WidgetSettingsRoutes {

  private static final Pattern COLOR = Pattern.compile("#[0-9a-fA-F]{6}");

  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public WidgetSettingsRoutes(Database database, Views views, ConsoleAudit audit) {
    this.audit = audit;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/widget", ConsoleRole.VIEWER, this::page);
    routes.post("/widget", ConsoleRole.ADMIN, this::save);
    routes.post("/widget/rotate-key", ConsoleRole.ADMIN, this::rotate);
    routes.post("/widget/allow-origin", ConsoleRole.ADMIN, this::allowOrigin);
  }

  static Future<Row> ensure(SqlConnection c, ConsoleSession s) {
    return c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key) VALUES ($1, $2) "
            + "ON CONFLICT (tenant_id) DO NOTHING").execute(Tuple.of(s.tenantId(), TenantKeys.newWidgetKey(s.tenantId())))
        .compose(x -> c.query("SELECT public_key, allowed_origins, title, greeting, primary_color, language, "
            + "position, updated_at FROM widget_settings").execute())
        .map(rows -> rows.iterator().next());
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    // Viewers only read: they see the settings when they exist, but never create the row.
    Future<Row> row = s.can(ConsoleRole.ADMIN) ? database.inTenant(s.tenantId(), c -> ensure(c, s))
        : database.inTenant(s.tenantId(), c -> c.query("SELECT public_key, allowed_origins, title, greeting, "
            + "primary_color, language, position, updated_at FROM widget_settings").execute()
            .map(rows -> rows.size() == 0 ? null : rows.iterator().next()));
    Future<List<Map<String, Object>>> refused = row.compose(r -> r == null ? Future.succeededFuture(List.of())
        : database.inTenant(s.tenantId(), c -> c.query("SELECT origin, refusals, first_seen, last_seen "
            + "FROM widget_refused_origins ORDER BY last_seen DESC LIMIT 20").execute().map(Rows::maps)));
    return refused.compose(list -> {
      Row r = row.result();
      Map<String, Object> model = new HashMap<>();
      model.put("refused", list);
      model.put("section", "widget");
      if (r != null) {
        Map<String, Object> w = Rows.map(r);
        String[] origins = r.getArrayOfStrings("allowed_origins");
        w.put("originsText", String.join("\n", origins == null ? new String[0] : origins));
        model.put("widget", w);
        model.put("snippet", "<script src=\"" + ownOrigin(ctx) + "/widget.js\" data-key=\""
            + r.getString("public_key") + "\" async></script>");
      }
      return views.render(ctx, "widget", model);
    });
  }

  /** The origin this request reached the node on (behind a TLS proxy: https), for embed snippets. */
  public static String ownOrigin(RoutingContext ctx) {
    return Csrf.requestScheme(ctx) + "://" + ctx.request().authority();
  }

  private Future<?> save(RoutingContext ctx, ConsoleSession s) {
    List<String> origins = Arrays.stream(Forms.text(ctx, "allowed_origins", 20_000, false).split("[\\s,]+"))
        .map(WidgetOrigin::normalize)
        .filter(o -> !o.isEmpty()).distinct().toList();
    for (String o : origins) {
      if (!WidgetOrigin.PATTERN.matcher(o).matches()) {
        throw ConsoleException.badRequest("widget.error.origin", o);
      }
    }
    if (origins.size() > 100) {
      throw ConsoleException.badRequest("error.invalid", "allowed_origins");
    }
    String title = Forms.text(ctx, "title", 80, true);
    String greeting = Forms.text(ctx, "greeting", 500, true);
    String color = Forms.text(ctx, "primary_color", 7, true);
    String language = Forms.text(ctx, "language", 2, true);
    String position = Forms.text(ctx, "position", 5, true);
    if (!COLOR.matcher(color).matches()) {
      throw ConsoleException.badRequest("error.invalid", "primary_color");
    }
    if (!List.of("en", "zh").contains(language) || !List.of("left", "right").contains(position)) {
      throw ConsoleException.badRequest("error.invalid", "language/position");
    }
    return database.inTenant(s.tenantId(), c -> ensure(c, s)
        .compose(x -> c.preparedQuery("UPDATE widget_settings SET allowed_origins = $1, title = $2, greeting = $3, "
                + "primary_color = $4, language = $5, position = $6, updated_at = now() WHERE tenant_id = $7")
            .execute(Tuple.of(origins.toArray(new String[0]), title, greeting, color.toLowerCase(Locale.ROOT),
                language, position, s.tenantId())))
        .compose(x -> audit.record(c, s, Forms.ip(ctx), "widget.update", "widget",
            new JsonObject().put("allowed_origins", new JsonArray(origins)).put("title", title)
                .put("primary_color", color).put("language", language).put("position", position))))
        .compose(x -> ConsoleRouter.done(ctx, "/widget", "saved"));
  }

  /**
   * One click on the Widget page's list of refused origins: the origin joins the allow-list (up to the
   * list's 100) and leaves the refused list.
   */
  private Future<?> allowOrigin(RoutingContext ctx, ConsoleSession s) {
    String origin = WidgetOrigin.normalize(Forms.text(ctx, "origin", 300, true));
    if (!WidgetOrigin.PATTERN.matcher(origin).matches()) {
      throw ConsoleException.badRequest("widget.error.origin", origin);
    }
    return database.inTenant(s.tenantId(), c -> ensure(c, s)
        .compose(x -> c.preparedQuery("UPDATE widget_settings SET allowed_origins = array_append(allowed_origins, $1), "
                + "updated_at = now() WHERE NOT ($1 = ANY (allowed_origins)) AND cardinality(allowed_origins) < 100 "
                + "RETURNING 1").execute(Tuple.of(origin)))
        .compose(updated -> updated.size() > 0 ? Future.succeededFuture()
            : c.preparedQuery("SELECT 1 FROM widget_settings WHERE $1 = ANY (allowed_origins)").execute(Tuple.of(origin))
                .map(present -> {
                  if (present.size() == 0) {
                    throw ConsoleException.badRequest("error.invalid", "allowed_origins");
                  }
                  return null;
                }))
        .compose(x -> c.preparedQuery("DELETE FROM widget_refused_origins WHERE origin = $1").execute(Tuple.of(origin)))
        .compose(x -> audit.record(c, s, Forms.ip(ctx), "widget.allow_origin", "widget",
            new JsonObject().put("origin", origin))))
        .compose(x -> ConsoleRouter.done(ctx, "/widget", "originAllowed"));
  }

  private Future<?> rotate(RoutingContext ctx, ConsoleSession s) {
    String key = TenantKeys.newWidgetKey(s.tenantId());
    return database.inTenant(s.tenantId(), c -> ensure(c, s)
        .compose(x -> c.preparedQuery("UPDATE widget_settings SET public_key = $1, updated_at = now() WHERE tenant_id = $2")
            .execute(Tuple.of(key, s.tenantId())))
        .compose(x -> audit.record(c, s, Forms.ip(ctx), "widget.rotate_key", "widget", null)))
        // tokens under the old key are refused from the commit on; this closes their open sockets
        .onSuccess(x -> VisitorSockets.publish(ctx.vertx(), s.tenantId(), null))
        .compose(x -> ConsoleRouter.done(ctx, "/widget", "rotated"));
  }
}
