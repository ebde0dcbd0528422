package ai.deepchat.console.tenants;

import ai.deepchat.console.audit.ConsoleAudit;
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
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.util.Map;

/**
 * Platform administration: the tenant directory and creating a tenant together with its owner account,
 * settings and widget key. Only platform super-admins reach these routes.
 */
public final class TenantRoutes {

  private final WorkerExecutor hashing;
  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public TenantRoutes(Vertx vertx, Database database, Views views, ConsoleAudit audit) {
    this.audit = audit;
    this.hashing = WorkerPools.of(vertx).open(WorkerPools.Kind.PASSWORD_HASHING);
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.platformGet("/platform/tenants", this::list);
    routes.platformPost("/platform/tenants", this::create);
  }

  private Future<?> list(RoutingContext ctx, ConsoleSession s) {
    return database.global(c -> c.query("SELECT id, slug, name, status, created_at FROM tenants ORDER BY slug").execute())
        .compose(rows -> views.render(ctx, "tenants", Map.of("section", "tenants", "tenants", Rows.maps(rows))));
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String slug = Forms.text(ctx, "slug", 63, true).toLowerCase();
    String name = Forms.text(ctx, "name", 200, true);
    String email = Forms.text(ctx, "owner_email", 254, true).toLowerCase();
    String password = ctx.request().getFormAttribute("owner_password");
    if (!slug.matches("[a-z0-9][a-z0-9-]{1,62}")) {
      throw ConsoleException.badRequest("tenants.error.slug");
    }
    if (!email.matches("[^@\\s]+@[^@\\s]+")) {
      throw ConsoleException.badRequest("error.invalid", "owner_email");
    }
    if (password == null || password.length() < 10 || password.length() > 1024) {
      throw ConsoleException.badRequest("users.error.password", 10);
    }
    // One transaction: the tenant row, then (scoped to it, as RLS requires) its settings, owner and widget.
    return hashing.executeBlocking(() -> PasswordHasher.hash(password), false)
        .compose(hash -> database.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id")
            .execute(Tuple.of(slug, name)).map(rows -> rows.iterator().next().getUUID("id"))
            .compose(tenantId -> c.preparedQuery("SELECT set_config('app.tenant_id', $1, true)")
                .execute(Tuple.of(tenantId.toString()))
                .compose(x -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id) VALUES ($1)").execute(Tuple.of(tenantId)))
                .compose(x -> c.preparedQuery("INSERT INTO users (tenant_id, email, display_name, password_hash, role) "
                    + "VALUES ($1, $2, '', $3, 'owner')").execute(Tuple.of(tenantId, email, hash)))
                .compose(x -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key) VALUES ($1, $2)")
                    .execute(Tuple.of(tenantId, TenantKeys.newWidgetKey(tenantId))))
                .compose(x -> audit.record(c, tenantId, s.actor(), Forms.ip(ctx), "tenant.create",
                    "tenant:" + tenantId, new JsonObject().put("slug", slug).put("owner", email))))))
        .recover(err -> SqlStates.isUniqueViolation(err)
            ? Future.failedFuture(ConsoleException.badRequest("error.duplicate", slug)) : Future.failedFuture(err))
        .compose(x -> ConsoleRouter.done(ctx, "/platform/tenants", "created"));
  }

  /**
   * Creates the configured super-admin on first start, while there is no platform admin at all; an
   * existing account is left as it is (the app may create only the first one, V8).
   */
  public static Future<Void> ensureSuperAdmin(Vertx vertx, Database database, String email, String password) {
    return database.global(c -> c.query("SELECT platform_admin_bootstrap_needed()").execute())
        .compose(rows -> {
          if (!rows.iterator().next().getBoolean(0)) {
            return Future.<Void>succeededFuture();
          }
          WorkerExecutor hashing = WorkerPools.of(vertx).open(WorkerPools.Kind.PASSWORD_HASHING); // once per node
          return hashing.executeBlocking(() -> PasswordHasher.hash(password), false)
              .eventually(hashing::close)
              .compose(hash -> database.global(c -> c.preparedQuery("SELECT platform_admin_bootstrap($1, $2)")
                  .execute(Tuple.of(email, hash))))
              .mapEmpty();
        });
  }

}
