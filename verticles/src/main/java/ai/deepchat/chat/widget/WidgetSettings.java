package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.UUID;

/** A tenant's widget row, and the exact-origin check every widget endpoint applies. */
record WidgetSettings(UUID tenantId, String publicKey, List<String> allowedOrigins, String title, String greeting,
                      String primaryColor, String language, String position) {

  static Future<WidgetSettings> load(Database db, UUID tenantId) {
    return query(db, tenantId, null).map(Loaded::settings);
  }

  /**
   * The widget of a visitor's tenant, if it still admits the visitor: the token was issued under the
   * current key (a rotated key ends every token), and the visitor was not erased. One query either way.
   */
  static Future<WidgetSettings> forVisitor(Database db, VisitorTokens.Visitor visitor) {
    return query(db, visitor.tenantId(), visitor.visitorId()).compose(loaded -> loaded.erased()
        || !VisitorTokens.keyTag(loaded.settings().publicKey()).equals(visitor.keyTag())
        ? Future.failedFuture(VisitorTokens.unauthorized()) : Future.succeededFuture(loaded.settings()));
  }

  private record Loaded(WidgetSettings settings, boolean erased) {
  }

  private static Future<Loaded> query(Database db, UUID tenantId, String visitorId) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT w.public_key, w.allowed_origins, w.title, w.greeting, "
            + "w.primary_color, w.language, w.position, t.status, EXISTS (SELECT 1 FROM erased_visitors e "
            + "WHERE e.visitor_hash = sha256(convert_to($1::text, 'UTF8'))) AS erased FROM widget_settings w "
            + "JOIN tenants t ON t.id = w.tenant_id").execute(Tuple.tuple().addString(visitorId)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(HttpProblem.notFound("widget_not_found", "No widget is set up for this key."));
          }
          Row r = rows.iterator().next();
          if (!"active".equals(r.getString("status"))) {
            return Future.failedFuture(HttpProblem.forbidden("tenant_suspended", "This workspace is suspended."));
          }
          String[] origins = r.getArrayOfStrings("allowed_origins");
          return Future.succeededFuture(new Loaded(new WidgetSettings(tenantId, r.getString("public_key"),
              origins == null ? List.of() : List.of(origins), r.getString("title"), r.getString("greeting"),
              r.getString("primary_color"), r.getString("language"), r.getString("position")),
              Boolean.TRUE.equals(r.getBoolean("erased"))));
        });
  }

  boolean allows(String origin) {
    if (origin == null || origin.isBlank() || origin.equals("null")) {
      return false;
    }
    String wanted = WidgetOrigin.normalize(origin);
    return allowedOrigins.stream().anyMatch(o -> WidgetOrigin.normalize(o).equals(wanted));
  }

  /**
   * Refuses a browser request from an origin not on the list. {@code required}: also refuse requests
   * without an Origin (session and WebSocket, which only browsers make). CORS headers name the one
   * allowed origin, never '*', and are sent for allowed origins only.
   */
  void checkOrigin(String origin, boolean required, HttpServerResponse response) {
    if (origin == null) {
      if (required) {
        throw HttpProblem.forbidden("origin_not_allowed", "This endpoint is for the chat widget on an allowed site.");
      }
      return;
    }
    if (!allows(origin)) {
      throw HttpProblem.forbidden("origin_not_allowed", "The origin " + origin + " may not use this widget: a "
          + "workspace admin can allow it on the console's Widget page (allowed origins).");
    }
    if (response != null) {
      response.putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin");
    }
  }
}
