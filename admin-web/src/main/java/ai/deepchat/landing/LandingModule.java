package ai.deepchat.landing;

import ai.deepchat.console.web.I18n;
import ai.deepchat.console.widget.WidgetSettingsRoutes;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.http.HttpModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.templ.thymeleaf.ThymeleafTemplateEngine;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The node's front page at {@code /}: what this node is, its version, where the console and the docs
 * are, and the demo tenant's own widget live on the page (the seeded widget allows the node's own
 * origin), or how to create the demo tenant when there is none. English or Chinese by Accept-Language,
 * or {@code ?lang=} (the page's language switch; the console's language cookie is scoped to /console).
 */
public final class LandingModule implements HttpModule {

  static final String TEMPLATE = "landing/index.html";
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

  private final Vertx vertx;
  private final Database database;
  private final Optional<String> demoSlug;
  private final I18n i18n;
  private final String version;

  /**
   * @param demoSlug the demo tenant's workspace when the node seeds one (SEED_DEMO), else empty: the
   *                 page then shows no widget, only how to create a tenant
   */
  public LandingModule(Vertx vertx, Database database, Optional<String> demoSlug, I18n i18n) {
    this.vertx = vertx;
    this.database = database;
    this.demoSlug = demoSlug;
    this.i18n = i18n;
    this.version = version();
  }

  @Override
  public void mount(Router router) {
    ThymeleafTemplateEngine engine = ThymeleafTemplateEngine.create(vertx);
    engine.unwrap().setMessageResolver(i18n);
    router.get("/").handler(ctx -> page(ctx, engine));
  }

  private void page(RoutingContext ctx, ThymeleafTemplateEngine engine) {
    demoWidgetKey()
        .compose(key -> {
          Map<String, Object> model = new HashMap<>();
          model.put("lang", language(ctx));
          model.put("version", version);
          model.put("demoSlug", demoSlug.orElse(null));
          model.put("widgetKey", key);
          model.put("origin", WidgetSettingsRoutes.ownOrigin(ctx));
          return engine.render(model, TEMPLATE);
        })
        .onSuccess(html -> ctx.response()
            .putHeader("Content-Type", "text/html; charset=utf-8")
            .putHeader("Content-Security-Policy", CSP)
            .putHeader("X-Content-Type-Options", "nosniff")
            .putHeader("Referrer-Policy", "same-origin")
            .putHeader("Cache-Control", "no-cache")
            .putHeader("Vary", "Accept-Language, Cookie")
            .end(html))
        .onFailure(ctx::fail);
  }

  /** {@code ?lang=} when it names a console language (the page's switch), else the console's rule. */
  static String language(RoutingContext ctx) {
    String asked = ctx.request().getParam("lang");
    return asked != null && I18n.LANGUAGES.contains(asked) ? asked : I18n.language(ctx);
  }

  /** The demo tenant's widget key, or null when the node seeds none, it is gone, suspended or has no widget. */
  private Future<String> demoWidgetKey() {
    if (demoSlug.isEmpty()) {
      return Future.succeededFuture(null);
    }
    return database.global(c -> c.preparedQuery("SELECT id FROM tenants WHERE slug = $1 AND status = 'active'")
            .execute(Tuple.of(demoSlug.get())))
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture(null)
            : database.inTenant(rows.iterator().next().getUUID(0), c -> c.query("SELECT public_key FROM widget_settings")
                .execute().map(keys -> keys.size() == 0 ? null : keys.iterator().next().getString(0))));
  }

  /** The release this jar belongs to (Maven writes it into every jar), or a development build's name. */
  private static String version() {
    try (InputStream in = LandingModule.class.getClassLoader()
        .getResourceAsStream("META-INF/maven/ai.deepchat/admin-web/pom.properties")) {
      if (in == null) {
        return "development build";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "development build");
    } catch (IOException e) {
      return "development build";
    }
  }
}
