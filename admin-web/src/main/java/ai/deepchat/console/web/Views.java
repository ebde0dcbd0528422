package ai.deepchat.console.web;

import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.auth.Csrf;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.templ.thymeleaf.ThymeleafTemplateEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Renders console pages with Thymeleaf (HTML mode, escaping by default) and adds what every page
 * needs: the language, the signed-in person and their permissions, the CSRF token, the request id,
 * and a one-shot notice named by the {@code done} query parameter.
 */
public final class Views {

  private static final Logger LOG = LoggerFactory.getLogger(Views.class);
  private static final Pattern NOTICE_KEY = Pattern.compile("[a-z][a-z0-9.]{1,60}");
  private static final String REQUEST_ID_KEY = "requestId";

  private final ThymeleafTemplateEngine engine;
  private final I18n i18n;
  private final Csrf csrf;

  public Views(Vertx vertx, I18n i18n, Csrf csrf) {
    this.engine = ThymeleafTemplateEngine.create(vertx);
    this.engine.unwrap().setMessageResolver(i18n);
    this.i18n = i18n;
    this.csrf = csrf;
  }

  public I18n i18n() {
    return i18n;
  }

  public String message(RoutingContext ctx, String key, Object... params) {
    return i18n.message(I18n.language(ctx), key, params);
  }

  public Future<Void> render(RoutingContext ctx, String template, Map<String, Object> model) {
    return render(ctx, 200, template, model);
  }

  public Future<Void> render(RoutingContext ctx, int status, String template, Map<String, Object> model) {
    Map<String, Object> data = new HashMap<>(model);
    String lang = I18n.language(ctx);
    ConsoleSession session = ctx.get(ConsoleSession.CONTEXT_KEY);
    data.put("lang", lang);
    data.put("otherLang", "en".equals(lang) ? "zh" : "en");
    data.put("path", ctx.request().path());
    data.put("requestId", String.valueOf((Object) ctx.get(REQUEST_ID_KEY)));
    data.put("csrf", csrf.token(ctx, session == null ? null : session.jti()));
    data.put("session", sessionModel(session));
    data.putIfAbsent("section", "");
    String done = ctx.request().getParam("done");
    if (done != null && NOTICE_KEY.matcher(done).matches() && i18n.has("notice." + done)) {
      data.put("notice", i18n.message(lang, "notice." + done));
    }
    return engine.render(data, "console/templates/" + template + ".html")
        .compose(html -> ctx.response().setStatusCode(status)
            .putHeader("Content-Type", "text/html; charset=utf-8").end(html));
  }

  private static Map<String, Object> sessionModel(ConsoleSession s) {
    if (s == null) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("email", s.email());
    m.put("name", s.displayName() == null || s.displayName().isBlank() ? s.email() : s.displayName());
    m.put("tenant", s.tenantSlug());
    m.put("role", s.role() == null ? "platform" : s.role().dbName());
    m.put("roleKey", "role." + (s.role() == null ? "platform" : s.role().dbName()));
    m.put("superAdmin", s.superAdmin());
    m.put("canEdit", s.can(ConsoleRole.EDITOR));
    m.put("canAdmin", s.can(ConsoleRole.ADMIN));
    m.put("isOwner", s.can(ConsoleRole.OWNER));
    m.put("canInbox", s.role() != null && s.role().staffsInbox());
    return m;
  }

  /** The error page for a status, with the request id to quote to an operator. */
  public void error(RoutingContext ctx, int status, String messageKey, Object... params) {
    if (ctx.response().ended()) {
      return;
    }
    if (ctx.request().path().startsWith(ConsoleRouter.BASE + "/api/")) {
      // the console's JSON routes answer JSON: {"error": {"code", "message"}}
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
          .end(new io.vertx.core.json.JsonObject().put("error", new io.vertx.core.json.JsonObject()
              .put("code", messageKey.replaceFirst("^error\\.", "")).put("message", message(ctx, messageKey, params)))
              .encode());
      return;
    }
    Map<String, Object> model = new HashMap<>();
    model.put("status", status);
    model.put("message", message(ctx, messageKey, params));
    model.put("title", "error." + status + ".title");
    render(ctx, status, "error", model).onFailure(err -> {
      LOG.error("error page failed", err);
      if (!ctx.response().ended()) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
            .end(status + " (request " + ctx.get(REQUEST_ID_KEY) + ")");
      }
    });
  }

  /** Maps any failure of a console route to a rendered error page; 5xx are logged with the request id. */
  public void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ConsoleException ce) {
      error(ctx, ce.status(), ce.messageKey(), ce.params());
      return;
    }
    int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
    if (status >= 500) {
      LOG.error("console request {} failed", (Object) ctx.get(REQUEST_ID_KEY), failure);
    }
    String key = switch (status) {
      case 400, 403, 404, 413 -> "error." + status;
      default -> status >= 500 ? "error.500" : "error.400";
    };
    error(ctx, status, key);
  }
}
