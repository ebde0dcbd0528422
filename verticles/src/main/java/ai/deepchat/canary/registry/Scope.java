package ai.deepchat.canary.registry;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.util.UUID;
import java.util.function.Function;

/**
 * Whose model versions and rollouts: one tenant's (tenant-owned tables under row-level security) or
 * the platform's defaults (platform_* tables, not tenant-owned). {@code tenantId} null means platform.
 */
public record Scope(UUID tenantId) {

  public static final Scope PLATFORM = new Scope(null);

  public static Scope tenant(UUID tenantId) {
    return new Scope(java.util.Objects.requireNonNull(tenantId, "tenantId"));
  }

  public boolean platform() {
    return tenantId == null;
  }

  public String versions() {
    return platform() ? "platform_model_versions" : "model_versions";
  }

  public String rollouts() {
    return platform() ? "platform_rollouts" : "rollouts";
  }

  /** One transaction in this scope: the tenant's (RLS confines it) or a global one for the platform. */
  public <T> Future<T> tx(Database database, Function<SqlConnection, Future<T>> work) {
    return platform() ? database.global(work) : database.inTenant(tenantId, work);
  }

  /** The label used in metrics and logs: the tenant id, or "platform". */
  public String label() {
    return platform() ? "platform" : tenantId.toString();
  }
}
