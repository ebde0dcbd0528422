package ai.deepchat.console.users;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.SqlStates;
import ai.deepchat.platform.security.PasswordHasher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.Map;
import java.util.UUID;

/**
 * Users of the workspace. Admins manage editors and viewers and other admins; only an owner may grant
 * or touch the owner role. Nobody removes or demotes themselves, so a workspace keeps its owner.
 */
public final class UserRoutes {

  static final int MIN_PASSWORD = 10;

  private final WorkerExecutor hashing;
  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public UserRoutes(Vertx vertx, Database database, Views views, ConsoleAudit audit) {
    this.audit = audit;
    this.hashing = WorkerPools.of(vertx).open(WorkerPools.Kind.PASSWORD_HASHING);
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/users", ConsoleRole.ADMIN, this::list);
    routes.post("/users", ConsoleRole.ADMIN, this::create);
    routes.post("/users/:id/role", ConsoleRole.ADMIN, this::changeRole);
    routes.post("/users/:id/delete", ConsoleRole.ADMIN, this::delete);
    routes.post("/users/:id/password", ConsoleRole.ADMIN, this::resetPassword);
    routes.get("/account", ConsoleRole.AGENT, (ctx, s) -> views.render(ctx, "account", Map.of("section", "account")));
    routes.post("/account/password", ConsoleRole.AGENT, this::changeOwnPassword);
  }

  private static String newPassword(RoutingContext ctx, String field) {
    String password = ctx.request().getFormAttribute(field);
    if (password == null || password.length() < MIN_PASSWORD || password.length() > 1024) {
      throw ConsoleException.badRequest("users.error.password", MIN_PASSWORD);
    }
    return password;
  }

  /** Sets a new password and ends the account's sessions (a reset is what follows a suspected leak). */
  private Future<?> resetPassword(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    String password = newPassword(ctx, "password");
    return hashing.executeBlocking(() -> PasswordHasher.hash(password), false)
        .compose(hash -> database.inTenant(s.tenantId(), c -> target(c, s, id)
            .compose(email -> c.preparedQuery("UPDATE users SET password_hash = $2, sessions_valid_after = now()"
                    + " WHERE id = $1").execute(Tuple.of(id, hash))
                .compose(x -> audit.record(c, s, Forms.ip(ctx), "user.password_reset", "user:" + id,
                    new JsonObject().put("email", email))))))
        .compose(x -> ConsoleRouter.done(ctx, "/users", "saved"));
  }

  /** The signed-in user's own password: the current one is checked first (on a worker thread). */
  private Future<?> changeOwnPassword(RoutingContext ctx, ConsoleSession s) {
    String current = ctx.request().getFormAttribute("current");
    String password = newPassword(ctx, "password");
    if (current == null || current.length() > 1024) {
      throw ConsoleException.badRequest("error.required", "current");
    }
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("SELECT password_hash FROM users WHERE id = $1")
            .execute(Tuple.of(s.userId())).map(rows -> rows.iterator().next().getString(0)))
        .compose(stored -> hashing.executeBlocking(() -> PasswordHasher.verify(current, stored)
            ? PasswordHasher.hash(password) : null, false))
        .compose(hash -> {
          if (hash == null) {
            return Future.failedFuture(ConsoleException.badRequest("account.error.current"));
          }
          // other sessions end; this browser signs in again with the new password
          return database.inTenant(s.tenantId(), c -> c.preparedQuery("UPDATE users SET password_hash = $2, "
                  + "sessions_valid_after = now() WHERE id = $1").execute(Tuple.of(s.userId(), hash))
              .compose(x -> audit.record(c, s, Forms.ip(ctx), "user.password_change", "user:" + s.userId(),
                  null)));
        })
        .compose(x -> ctx.redirect(ConsoleRouter.BASE + "/login?done=passwordChanged"));
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT id, email, display_name, role, created_at"
            + " FROM users ORDER BY email").execute())
        .compose(rows -> views.render(ctx, "users", Map.of("section", "users", "users", Rows.maps(rows),
            "selfId", s.userId().toString())));
  }

  private static ConsoleRole role(RoutingContext ctx, ConsoleSession s) {
    ConsoleRole role = ConsoleRole.parse(ctx.request().getFormAttribute("role"))
        .orElseThrow(() -> ConsoleException.badRequest("error.invalid", "role"));
    if (role == ConsoleRole.OWNER && !s.can(ConsoleRole.OWNER)) {
      throw ConsoleException.forbidden();
    }
    return role;
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String email = Forms.text(ctx, "email", 254, true).toLowerCase();
    String name = Forms.text(ctx, "display_name", 120, false);
    String password = ctx.request().getFormAttribute("password");
    if (!email.matches("[^@\\s]+@[^@\\s]+")) {
      throw ConsoleException.badRequest("error.invalid", "email");
    }
    if (password == null || password.length() < MIN_PASSWORD || password.length() > 1024) {
      throw ConsoleException.badRequest("users.error.password", MIN_PASSWORD);
    }
    ConsoleRole role = role(ctx, s);
    return hashing.executeBlocking(() -> PasswordHasher.hash(password), false)
        .compose(hash -> database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO users "
                + "(tenant_id, email, display_name, password_hash, role) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .execute(Tuple.of(s.tenantId(), email, name, hash, role.dbName()))
            .compose(rows -> audit.record(c, s, Forms.ip(ctx), "user.create",
                "user:" + rows.iterator().next().getUUID("id"),
                new JsonObject().put("email", email).put("role", role.dbName())))))
        .recover(err -> SqlStates.isUniqueViolation(err)
            ? Future.failedFuture(ConsoleException.badRequest("error.duplicate", email)) : Future.failedFuture(err))
        .compose(x -> ConsoleRouter.done(ctx, "/users", "saved"));
  }

  /** The target user in this tenant, refusing changes an admin may not make to it. */
  private static Future<String> target(SqlConnection c, ConsoleSession s, UUID id) {
    return c.preparedQuery("SELECT role, email FROM users WHERE id = $1").execute(Tuple.of(id)).map(rows -> {
      if (rows.size() == 0) {
        throw ConsoleException.notFound();
      }
      String current = rows.iterator().next().getString("role");
      if ("owner".equals(current) && !s.can(ConsoleRole.OWNER)) {
        throw ConsoleException.forbidden();
      }
      return rows.iterator().next().getString("email");
    });
  }

  private Future<?> changeRole(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    ConsoleRole role = role(ctx, s);
    if (id.equals(s.userId())) {
      throw ConsoleException.badRequest("users.error.self");
    }
    return database.inTenant(s.tenantId(), c -> target(c, s, id)
        .compose(email -> c.preparedQuery("UPDATE users SET role = $2 WHERE id = $1").execute(Tuple.of(id, role.dbName()))
            .compose(x -> audit.record(c, s, Forms.ip(ctx), "user.role", "user:" + id,
                new JsonObject().put("email", email).put("role", role.dbName())))))
        .compose(x -> ConsoleRouter.done(ctx, "/users", "saved"));
  }

  private Future<?> delete(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    if (id.equals(s.userId())) {
      throw ConsoleException.badRequest("users.error.self");
    }
    return database.inTenant(s.tenantId(), c -> target(c, s, id)
        .compose(email -> c.preparedQuery("DELETE FROM users WHERE id = $1").execute(Tuple.of(id))
            .compose(x -> audit.record(c, s, Forms.ip(ctx), "user.delete", "user:" + id,
                new JsonObject().put("email", email)))))
        .compose(x -> ConsoleRouter.done(ctx, "/users", "deleted"));
  }
}
