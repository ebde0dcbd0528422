package ai.deepchat.chat.widget;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.sqlclient.Row;

import java.util.List;
import java.util.Locale;
import java.util.UUID;

/** A tenant's widget row, and the exact-origin check every widget endpoint applies. */
record WidgetSettings(UUID tenantId, String publicKey, List<String> allowedOrigins, String title, String greeting,
                      String primaryColor, String language, String position) {

  static Future<WidgetSettings> load(Database db, UUID tenantId) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT w.public_key, w.allowed_origins, w.title, w.greeting, "
            + "w.primary_color, w.language, w.position, t.status FROM widget_settings w "
            + "JOIN tenants t ON t.id = w.tenant_id").execute())
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(HttpProblem.notFound("widget_not_found", "No widget is set up for this key."));
          }
          Row r = rows.iterator().next();
          if (!"active".equals(r.getString("status"))) {
            return Future.failedFuture(HttpProblem.forbidden("tenant_suspended", "This workspace is suspended."));
          }
          String[] origins = r.getArrayOfStrings("allowed_origins");
          return Future.succeededFuture(new WidgetSettings(tenantId, r.getString("public_key"),
              origins == null ? List.of() : List.of(origins), r.getString("title"), r.getString("greeting"),
              r.getString("primary_color"), r.getString("language"), r.getString("position")));
        });
  }

  /** Browsers send origins as scheme://host[:port]; stored entries may differ only in case or a trailing slash. */
  static String normalizeOrigin(String origin) {
    String o = origin.strip().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }

  boolean allows(String origin) {
    if (origin == null || origin.isBlank() || origin.equals("null")) {
      return false;
    }
    String wanted = normalizeOrigin(origin);
    return allowedOrigins.stream().anyMatch(o -> normalizeOrigin(o).equals(wanted));
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
      throw HttpProblem.forbidden("origin_not_allowed", "The origin " + origin + " may not use this widget.");
    }
    if (response != null) {
      response.putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin");
    }
  }
}
