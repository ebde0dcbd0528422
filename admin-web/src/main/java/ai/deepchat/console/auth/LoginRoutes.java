package ai.deepchat.console.auth;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.I18n;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.gateway.ClientAddress;
import ai.deepchat.policy.ratelimit.FailureBackoff;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Sign-in (workspace + e-mail + password; an empty workspace means a platform administrator),
 * sign-out, and the language switch. Wrong passwords slow down the account from that client address
 * only ({@link FailureBackoff}: after three, 1 s, 2 s, 4 s ... up to 15 min), so nobody can lock an
 * owner or the super-admin out from elsewhere: the right password from another address always works.
 * Attempts during a wait are refused (429, Retry-After) before any hashing. Argon2 runs on a worker
 * thread; an unknown account costs the same hashing work and gets the same back-off as a known one.
 */
public final class LoginRoutes {

  /** A valid hash of a random password, made lazily on a worker: it equalizes the time of unknown accounts. */
  private static final class Dummy {
    static final String HASH = PasswordHasher.hash(UUID.randomUUID().toString());
  }

  private final WorkerExecutor hashing;
  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;
  private final SessionTokens tokens;
  private final Csrf.CookiePolicy cookies;
  private final Future<Void> superAdminReady;
  private final FailureBackoff backoff;
  private final ClientAddress clients;

  /** What the database knows of the account an e-mail names. */
  private record Account(UUID id, String hash) {
  }

  /** {@code backoff}: node-wide (or cluster-wide) failures by account and client address. */
  public LoginRoutes(Vertx vertx, Database database, Views views, SessionTokens tokens,
                     Csrf.CookiePolicy cookies, Future<Void> superAdminReady, ConsoleAudit audit,
                     FailureBackoff backoff, ClientAddress clients) {
    this.backoff = backoff;
    this.clients = clients;
    this.audit = audit;
    this.hashing = WorkerPools.of(vertx).open(WorkerPools.Kind.PASSWORD_HASHING);
    this.database = database;
    this.views = views;
    this.tokens = tokens;
    this.cookies = cookies;
    this.superAdminReady = superAdminReady;
  }

  public void mount(ConsoleRouter routes) {
    routes.open(HttpMethod.GET, "/login", ctx -> loginPage(ctx, 200, null, 0, "", ""));
    routes.open(HttpMethod.POST, "/login", this::login);
    routes.open(HttpMethod.GET, "/lang/:lang", this::language);
    routes.post("/logout", ConsoleRole.AGENT, this::logout);
    routes.platformPost("/platform/logout", this::logout);
  }

  private Future<Void> loginPage(RoutingContext ctx, int status, String errorKey, long seconds, String workspace,
                                 String email) {
    Map<String, Object> model = new HashMap<>();
    model.put("next", Forms.localNext(ctx.request().getParam("next")));
    model.put("error", errorKey == null ? null : views.message(ctx, errorKey, seconds));
    model.put("workspace", workspace);
    model.put("email", email);
    return views.render(ctx, status, "login", model);
  }

  private void login(RoutingContext ctx) {
    String workspace;
    String email;
    String password;
    try {
      workspace = Forms.text(ctx, "workspace", 63, false).toLowerCase();
      email = Forms.text(ctx, "email", 254, true);
      password = ctx.request().getFormAttribute("password");
      if (password == null || password.isEmpty() || password.length() > 1024) {
        throw new IllegalArgumentException();
      }
    } catch (RuntimeException bad) {
      loginPage(ctx, 400, "login.error.missing", 0, "", "").onFailure(ctx::fail);
      return;
    }
    String next = Forms.localNext(ctx.request().getFormAttribute("next"));
    String key = "signin|" + workspace + "|" + email.toLowerCase(Locale.ROOT) + "|" + clients.of(ctx.request());
    Future<Void> result = backoff.retryAfterSeconds(key).compose(wait -> {
      if (wait > 0) {
        ctx.response().putHeader("Retry-After", String.valueOf(wait));
        return loginPage(ctx, 429, "login.error.slowDown", wait, workspace, email);
      }
      return workspace.isEmpty()
          ? superAdminReady.otherwiseEmpty().compose(v -> platformLogin(ctx, key, email, password, next))
          : tenantLogin(ctx, key, workspace, email, password, next);
    });
    result.onFailure(ctx::fail);
  }

  /**
   * A wrong password: counted against (account, client address); the first time it starts a wait, a
   * known tenant account gets an audit entry.
   */
  private Future<Void> refused(RoutingContext ctx, String key, String workspace, String email,
                               Function<FailureBackoff.Delay, Future<?>> onFirstWait) {
    return backoff.fail(key).compose(d -> {
      Future<?> audited = d.firstWait() ? onFirstWait.apply(d) : Future.succeededFuture();
      if (d.retryAfterSeconds() > 0) {
        ctx.response().putHeader("Retry-After", String.valueOf(d.retryAfterSeconds()));
      }
      return audited.compose(x -> loginPage(ctx, 401, "login.error.invalid", 0, workspace, email));
    });
  }

  private Future<Void> tenantLogin(RoutingContext ctx, String key, String slug, String email, String password,
                                   String next) {
    return database.global(c -> c.preparedQuery("SELECT id FROM tenants WHERE slug = $1 AND status = 'active'")
            .execute(Tuple.of(slug)))
        .compose(rows -> {
          UUID tenantId = rows.size() == 0 ? null : rows.iterator().next().getUUID("id");
          Future<Account> account = tenantId == null ? Future.succeededFuture(null)
              : database.inTenant(tenantId, c -> c.preparedQuery("SELECT id, password_hash FROM users"
                  + " WHERE lower(email) = lower($1)").execute(Tuple.of(email)).map(LoginRoutes::account));
          return account.compose(acc -> check(acc, password).compose(ok -> {
            if (!ok) {
              return refused(ctx, key, slug, email, d -> acc == null ? Future.succeededFuture()
                  : database.inTenant(tenantId, c -> audit.record(c, tenantId, "user:" + email, Forms.ip(ctx),
                      "console.signin_throttled", "user:" + acc.id(),
                      new JsonObject().put("client", clients.of(ctx.request())))));
            }
            return backoff.clear(key).compose(x -> database.inTenant(tenantId, c -> audit.record(c, tenantId,
                    "user:" + email, Forms.ip(ctx), "console.login", "user:" + acc.id(), new JsonObject())))
                .compose(x -> startSession(ctx, tokens.issue(acc.id(), tenantId, false), next));
          }));
        });
  }

  private Future<Void> platformLogin(RoutingContext ctx, String key, String email, String password, String next) {
    // platform_admins is the owner's: the app reaches one account at a time through functions (V8)
    return database.global(c -> c.preparedQuery("SELECT id, password_hash FROM platform_admin_credentials($1)")
            .execute(Tuple.of(email)))
        .map(LoginRoutes::account)
        .compose(acc -> check(acc, password).compose(ok -> {
          if (!ok) {
            return refused(ctx, key, "", email, d -> Future.succeededFuture());
          }
          return backoff.clear(key).compose(x -> startSession(ctx, tokens.issue(acc.id(), null, true),
              next.equals(ConsoleRouter.BASE + "/") ? ConsoleRouter.BASE + "/platform/tenants" : next));
        }));
  }

  private static Account account(io.vertx.sqlclient.RowSet<Row> rows) {
    if (rows.size() == 0) {
      return null;
    }
    Row r = rows.iterator().next();
    return new Account(r.getUUID("id"), r.getString("password_hash"));
  }

  /** Verifies on the password-hashing pool; unknown accounts still pay for one hash. */
  private Future<Boolean> check(Account account, String password) {
    return hashing.executeBlocking(
        () -> PasswordHasher.verify(password, account != null ? account.hash() : Dummy.HASH), false)
        .map(ok -> ok && account != null);
  }

  private Future<Void> startSession(RoutingContext ctx, String token, String next) {
    ctx.response().addCookie(cookies.apply(ctx, Cookie.cookie(ConsoleRouter.SESSION_COOKIE, token)
        .setMaxAge(SessionTokens.LIFETIME_MINUTES * 60L)));
    return ctx.response().setStatusCode(303).putHeader("Location", next).end();
  }

  private Future<?> logout(RoutingContext ctx, ConsoleSession s) {
    Future<?> revoke = s.superAdmin()
        ? database.global(c -> c.preparedQuery("SELECT platform_admin_sign_out($1)").execute(Tuple.of(s.userId())))
        : database.inTenant(s.tenantId(), c -> c.preparedQuery(
                "UPDATE users SET sessions_valid_after = now() WHERE id = $1").execute(Tuple.of(s.userId()))
            .compose(x -> audit.record(c, s, Forms.ip(ctx), "console.logout", "user:" + s.userId(), null)));
    return revoke.compose(x -> {
      ctx.response().addCookie(cookies.apply(ctx, Cookie.cookie(ConsoleRouter.SESSION_COOKIE, "")).setMaxAge(0));
      return ctx.response().setStatusCode(303).putHeader("Location", ConsoleRouter.BASE + "/login?done=signedOut").end();
    });
  }

  private void language(RoutingContext ctx) {
    String lang = ctx.pathParam("lang");
    if (I18n.LANGUAGES.contains(lang)) {
      ctx.response().addCookie(cookies.apply(ctx, Cookie.cookie(I18n.COOKIE, lang)).setMaxAge(365L * 24 * 3600));
    }
    ctx.redirect(Forms.localNext(ctx.request().getParam("next")));
  }
}
