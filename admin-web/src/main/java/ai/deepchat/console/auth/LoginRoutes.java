package ai.deepchat.console.auth;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.I18n;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.PasswordHasher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Sign-in (workspace + e-mail + password; an empty workspace means a platform administrator),
 * sign-out, and the language switch. Five wrong passwords lock an account for fifteen minutes.
 * Argon2 runs on a worker thread; an unknown account costs the same hashing work as a known one.
 */
public final class LoginRoutes {

  public static final int MAX_FAILURES = 5;
  public static final int LOCK_MINUTES = 15;
  /** A valid hash of a random password, made lazily on a worker: it equalizes the time of unknown accounts. */
  private static final class Dummy {
    static final String HASH = PasswordHasher.hash(UUID.randomUUID().toString());
  }

  private static final String FAIL_SQL = "UPDATE %s SET "
      + "failed_logins = CASE WHEN failed_logins + 1 >= " + MAX_FAILURES + " THEN 0 ELSE failed_logins + 1 END, "
      + "locked_until = CASE WHEN failed_logins + 1 >= " + MAX_FAILURES
      + " THEN now() + interval '" + LOCK_MINUTES + " minutes' ELSE locked_until END "
      + "WHERE id = $1 RETURNING coalesce(locked_until > now(), false) AS locked";

  private final Vertx vertx;
  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;
  private final SessionTokens tokens;
  private final Csrf.CookiePolicy cookies;
  private final Future<Void> superAdminReady;

  /** What the database knows of the account an e-mail names. */
  private record Account(UUID id, String hash, boolean locked) {
  }

  public LoginRoutes(Vertx vertx, Database database, Views views, SessionTokens tokens,
                     Csrf.CookiePolicy cookies, Future<Void> superAdminReady, ConsoleAudit audit) {
    this.audit = audit;
    this.vertx = vertx;
    this.database = database;
    this.views = views;
    this.tokens = tokens;
    this.cookies = cookies;
    this.superAdminReady = superAdminReady;
  }

  public void mount(ConsoleRouter routes) {
    routes.open(HttpMethod.GET, "/login", ctx -> loginPage(ctx, 200, null, "", ""));
    routes.open(HttpMethod.POST, "/login", this::login);
    routes.open(HttpMethod.GET, "/lang/:lang", this::language);
    routes.post("/logout", ConsoleRole.VIEWER, this::logout);
    routes.platformPost("/platform/logout", this::logout);
  }

  private Future<Void> loginPage(RoutingContext ctx, int status, String errorKey, String workspace, String email) {
    Map<String, Object> model = new HashMap<>();
    model.put("next", Forms.localNext(ctx.request().getParam("next")));
    model.put("error", errorKey == null ? null : views.message(ctx, errorKey, LOCK_MINUTES));
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
      loginPage(ctx, 400, "login.error.missing", "", "").onFailure(ctx::fail);
      return;
    }
    String next = Forms.localNext(ctx.request().getFormAttribute("next"));
    Future<Void> result = workspace.isEmpty()
        ? superAdminReady.otherwiseEmpty().compose(v -> platformLogin(ctx, email, password, next))
        : tenantLogin(ctx, workspace, email, password, next);
    result.onFailure(ctx::fail);
  }

  private Future<Void> tenantLogin(RoutingContext ctx, String slug, String email, String password, String next) {
    return database.global(c -> c.preparedQuery("SELECT id FROM tenants WHERE slug = $1 AND status = 'active'")
            .execute(Tuple.of(slug)))
        .compose(rows -> {
          UUID tenantId = rows.size() == 0 ? null : rows.iterator().next().getUUID("id");
          Future<Account> account = tenantId == null ? Future.succeededFuture(null)
              : database.inTenant(tenantId, c -> c.preparedQuery("SELECT id, password_hash, "
                  + "coalesce(locked_until > now(), false) AS locked FROM users WHERE lower(email) = lower($1)")
                  .execute(Tuple.of(email)).map(LoginRoutes::account));
          return account.compose(acc -> check(acc, password).compose(ok -> {
            if (acc != null && acc.locked()) {
              return loginPage(ctx, 429, "login.error.locked", slug, email);
            }
            if (!ok) {
              Future<Boolean> lockedNow = acc == null ? Future.succeededFuture(false)
                  : database.inTenant(tenantId, c -> c.preparedQuery(String.format(FAIL_SQL, "users"))
                      .execute(Tuple.of(acc.id())).compose(r -> {
                        boolean locked = r.iterator().next().getBoolean("locked");
                        return locked ? audit.record(c, tenantId, "user:" + email, Forms.ip(ctx),
                            "console.account_locked", "user:" + acc.id(), new JsonObject()).map(true)
                            : Future.succeededFuture(false);
                      }));
              return lockedNow.compose(locked -> loginPage(ctx, locked ? 429 : 401,
                  locked ? "login.error.locked" : "login.error.invalid", slug, email));
            }
            return database.inTenant(tenantId, c -> c.preparedQuery(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1").execute(Tuple.of(acc.id()))
                .compose(x -> audit.record(c, tenantId, "user:" + email, Forms.ip(ctx), "console.login",
                    "user:" + acc.id(), new JsonObject())))
                .compose(x -> startSession(ctx, tokens.issue(acc.id(), tenantId, false), next));
          }));
        });
  }

  private Future<Void> platformLogin(RoutingContext ctx, String email, String password, String next) {
    // platform_admins is the owner's: the app reaches one account at a time through functions (V8)
    return database.global(c -> c.preparedQuery("SELECT id, password_hash, locked FROM platform_admin_credentials($1)")
            .execute(Tuple.of(email)))
        .map(LoginRoutes::account)
        .compose(acc -> check(acc, password).compose(ok -> {
          if (acc != null && acc.locked()) {
            return loginPage(ctx, 429, "login.error.locked", "", email);
          }
          if (!ok) {
            Future<Boolean> locked = acc == null ? Future.succeededFuture(false)
                : database.global(c -> c.preparedQuery("SELECT coalesce(platform_admin_login_failed($1, $2, $3), false) AS locked")
                    .execute(Tuple.of(acc.id(), MAX_FAILURES, LOCK_MINUTES)).map(r -> r.iterator().next().getBoolean("locked")));
            return locked.compose(l -> loginPage(ctx, l ? 429 : 401,
                l ? "login.error.locked" : "login.error.invalid", "", email));
          }
          return database.global(c -> c.preparedQuery("SELECT platform_admin_login_succeeded($1)")
                  .execute(Tuple.of(acc.id())))
              .compose(x -> startSession(ctx, tokens.issue(acc.id(), null, true),
                  next.equals(ConsoleRouter.BASE + "/") ? ConsoleRouter.BASE + "/platform/tenants" : next));
        }));
  }

  private static Account account(io.vertx.sqlclient.RowSet<Row> rows) {
    if (rows.size() == 0) {
      return null;
    }
    Row r = rows.iterator().next();
    return new Account(r.getUUID("id"), r.getString("password_hash"), r.getBoolean("locked"));
  }

  /** Verifies on a worker thread; unknown and locked accounts still pay for one hash. */
  private Future<Boolean> check(Account account, String password) {
    boolean real = account != null && !account.locked();
    return vertx.executeBlocking(() -> PasswordHasher.verify(password, real ? account.hash() : Dummy.HASH), false)
        .map(ok -> ok && account != null && !account.locked());
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
