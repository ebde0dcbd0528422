package ai.deepchat.console.keys;

import ai.deepchat.console.audit.ConsoleAudit;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Rows;
import ai.deepchat.console.web.Views;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * API keys: created keys are shown once in the response that creates them (only a SHA-256 hash and a
 * display prefix are stored); revoking is immediate and permanent.
 */
public final class ApiKeyRoutes {

  private final Database database;
  private final Views views;
  private final ConsoleAudit audit;

  public ApiKeyRoutes(Database database, Views views, ConsoleAudit audit) {
    this.audit = audit;
    this.database = database;
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/keys", ConsoleRole.ADMIN, (ctx, s) -> page(ctx, s, null));
    routes.post("/keys", ConsoleRole.ADMIN, this::create);
    routes.post("/keys/:id/revoke", ConsoleRole.ADMIN, this::revoke);
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s, Map<String, Object> created) {
    return database.inTenant(s.tenantId(), c -> c.query("SELECT k.id, k.name, k.key_prefix, k.created_at, "
            + "k.last_used_at, k.revoked_at, coalesce(u.email, '') AS created_by FROM api_keys k "
            + "LEFT JOIN users u ON u.id = k.created_by ORDER BY k.revoked_at NULLS FIRST, k.created_at DESC").execute())
        .compose(rows -> {
          Map<String, Object> model = new HashMap<>();
          model.put("section", "keys");
          model.put("keys", Rows.maps(rows));
          model.put("created", created);
          return views.render(ctx, "keys", model);
        });
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    String name = Forms.text(ctx, "name", 100, true);
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(s.tenantId());
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("INSERT INTO api_keys "
            + "(tenant_id, name, key_prefix, key_hash, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .execute(Tuple.of(s.tenantId(), name, key.prefix(), key.hash(), s.userId()))
        .compose(rows -> audit.record(c, s, Forms.ip(ctx), "api_key.create",
            "api_key:" + rows.iterator().next().getUUID("id"),
            new JsonObject().put("name", name).put("prefix", key.prefix()))))
        // Rendered directly (not a redirect) so the plaintext never lands in a URL or a later page.
        .compose(x -> page(ctx, s, Map.of("name", name, "plaintext", key.plaintext())));
  }

  private Future<?> revoke(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    return database.inTenant(s.tenantId(), c -> c.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
            + "WHERE id = $1 RETURNING name").execute(Tuple.of(id))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw ConsoleException.notFound();
          }
          return audit.record(c, s, Forms.ip(ctx), "api_key.revoke", "api_key:" + id,
              new JsonObject().put("name", rows.iterator().next().getString("name")));
        }))
        // refused on this node before the answer; other nodes drop it on V49's notification
        .onSuccess(x -> database.apiKeys().invalidateKey(id))
        .compose(x -> ConsoleRouter.done(ctx, "/keys", "revoked"));
  }
}
