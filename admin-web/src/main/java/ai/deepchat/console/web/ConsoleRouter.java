package ai.deepchat.console.web;

import ai.deepchat.policy.ratelimit.RateDecision;
import ai.deepchat.policy.ratelimit.RequestLimits;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.auth.Csrf;
import ai.deepchat.console.auth.SessionTokens;
import ai.deepchat.console.auth.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Registers console routes with their guards, so no page can forget one: the session (cookie JWT,
 * re-read account), the role, CSRF on every unsafe request, body limits, and rendered error pages.
 */
public final class ConsoleRouter {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConsoleRouter.class);

  public static final String BASE = "/console";
  public static final String SESSION_COOKIE = "dc_session";
  static final long FORM_LIMIT = 256 * 1024;

  /** A console handler; its failed future becomes an error page. */
  @FunctionalInterface
  public interface Action {
    Future<?> handle(RoutingContext ctx, ConsoleSession session);
  }

  /** Who may use a route. */
  public enum Audience { TENANT, PLATFORM }

  private final Router router;
  private final Views views;
  private final SessionTokens tokens;
  private final Sessions sessions;
  private final Csrf csrf;
  private final String uploadsDirectory;
  private final RequestLimits limits;

  /**
   * {@code uploadsDirectory}: where multipart files wait while a request runs (removed when it ends).
   * {@code limits}: the console channel of each workspace (its requests_per_minute, apart from its API
   * keys and widget), checked once the session is known.
   */
  public ConsoleRouter(Router router, Views views, SessionTokens tokens, Sessions sessions, Csrf csrf,
                       String uploadsDirectory, RequestLimits limits) {
    this.uploadsDirectory = uploadsDirectory;
    this.limits = limits;
    this.router = router;
    this.views = views;
    this.tokens = tokens;
    this.sessions = sessions;
    this.csrf = csrf;
  }

  public Views views() {
    return views;
  }

  /** A page for tenant users with at least {@code role}. */
  public void get(String path, ConsoleRole role, Action action) {
    guarded(router.get(BASE + path), Audience.TENANT, role, action);
  }

  /** A form action for tenant users with at least {@code role}; CSRF-checked. */
  public void post(String path, ConsoleRole role, Action action) {
    Route route = router.post(BASE + path).handler(BodyHandler.create(false).setBodyLimit(FORM_LIMIT));
    guarded(route, Audience.TENANT, role, action);
  }

  /** A JSON delete for tenant users with at least {@code role}; CSRF-checked. */
  public void delete(String path, ConsoleRole role, Action action) {
    guarded(router.delete(BASE + path), Audience.TENANT, role, action);
  }

  /** A multipart upload (bigger body limit, files kept in memory only); CSRF-checked. */
  public void upload(String path, ConsoleRole role, long limit, Action action) {
    Route route = router.post(BASE + path).handler(BodyHandler.create(false).setBodyLimit(limit)
        .setHandleFileUploads(true).setUploadsDirectory(uploadsDirectory).setDeleteUploadedFilesOnEnd(true));
    guarded(route, Audience.TENANT, role, action);
  }

  public void platformGet(String path, Action action) {
    guarded(router.get(BASE + path), Audience.PLATFORM, null, action);
  }

  public void platformPost(String path, Action action) {
    Route route = router.post(BASE + path).handler(BodyHandler.create(false).setBodyLimit(FORM_LIMIT));
    guarded(route, Audience.PLATFORM, null, action);
  }

  /** Routes that need no session (sign-in); POSTs still need a valid CSRF token. */
  public void open(HttpMethod method, String path, Handler<RoutingContext> handler) {
    Route route = router.route(method, BASE + path);
    if (method != HttpMethod.GET) {
      route.handler(BodyHandler.create(false).setBodyLimit(FORM_LIMIT)).handler(ctx -> {
        if (!csrf.valid(ctx, null)) {
          views.error(ctx, 403, "error.csrf");
          return;
        }
        ctx.next();
      });
    }
    route.handler(handler);
  }

  private void guarded(Route route, Audience audience, ConsoleRole role, Action action) {
    route.handler(ctx -> authenticate(ctx, audience, role, action));
  }

  private void authenticate(RoutingContext ctx, Audience audience, ConsoleRole role, Action action) {
    Cookie cookie = ctx.request().getCookie(SESSION_COOKIE);
    Future<ConsoleSession> session = cookie == null ? Future.succeededFuture(null)
        : tokens.verify(cookie.getValue()).compose(sessions::load)
            .onFailure(err -> LOG.debug("console session refused: {}", err.getMessage()))
            .otherwise((ConsoleSession) null);
    session.onComplete(done -> {
      ConsoleSession s = done.succeeded() ? done.result() : null;
      if (s == null) {
        unauthenticated(ctx);
        return;
      }
      ctx.put(ConsoleSession.CONTEXT_KEY, s);
      boolean unsafe = ctx.request().method() != HttpMethod.GET && ctx.request().method() != HttpMethod.HEAD;
      if (unsafe && !csrf.valid(ctx, s.jti())) {
        views.error(ctx, 403, "error.csrf");
        return;
      }
      if (audience == Audience.PLATFORM ? !s.superAdmin() : !s.can(role)) {
        if (audience == Audience.TENANT && s.superAdmin() && !unsafe) {
          ctx.redirect(BASE + "/platform/tenants");
          return;
        }
        if (audience == Audience.TENANT && s.role() == ConsoleRole.AGENT && !unsafe
            && !ctx.request().path().startsWith(BASE + "/api/")) {
          ctx.redirect(BASE + "/inbox"); // an agent's console is the inbox
          return;
        }
        views.error(ctx, 403, "error.403");
        return;
      }
      Future<RateDecision> admitted = s.superAdmin() ? Future.succeededFuture(RateDecision.allow(0))
          : limits.checkTenant(s.tenantId());
      admitted.onComplete(limit -> {
        if (limit.succeeded() && !limit.result().allowed()) {
          ctx.response().putHeader("Retry-After", String.valueOf(limit.result().retryAfterSeconds()));
          views.error(ctx, 429, "error.429", limit.result().retryAfterSeconds());
          return;
        }
        Future<?> result;
        try {
          result = action.handle(ctx, s);
        } catch (RuntimeException e) {
          result = Future.failedFuture(e);
        }
        result.onFailure(ctx::fail);
      });
    });
  }

  private void unauthenticated(RoutingContext ctx) {
    if (ctx.request().method() == HttpMethod.GET) {
      String next = ctx.request().uri();
      ctx.redirect(BASE + "/login?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
      return;
    }
    views.error(ctx, 401, "error.401");
  }

  /** Redirects after a successful form (POST/redirect/GET), naming the notice to show. */
  public static Future<Void> done(RoutingContext ctx, String path, String notice) {
    String sep = path.contains("?") ? "&" : "?";
    return ctx.redirect(BASE + path + (notice == null ? "" : sep + "done=" + notice));
  }
}
