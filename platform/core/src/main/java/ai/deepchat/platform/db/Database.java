package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

/**
 * The application's access to PostgreSQL. The pool connects as {@code deepchat_app}, which row-level
 * security confines to the tenant set in the current transaction. Sessions are never given a tenant:
 * a pooled connection keeps session state, so the tenant is set transaction-locally on every use.
 */
public final class Database {

  private final Pool pool;

  public Database(Pool pool) {
    this.pool = pool;
  }

  /**
   * Runs {@code work} in one transaction scoped to {@code tenantId}; rows of other tenants are
   * invisible and cannot be written. Commits when the returned future succeeds, rolls back otherwise.
   */
  public <T> Future<T> inTenant(UUID tenantId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(tenantId, "tenantId");
    return pool.withTransaction(conn -> conn
        .preparedQuery("SELECT set_config('app.tenant_id', $1, true)")
        .execute(Tuple.of(tenantId.toString()))
        .compose(ignored -> work.apply(conn)));
  }

  /**
   * Runs {@code work} in a transaction with no tenant: only the global tables (tenants directory,
   * platform admins) are visible; every tenant-owned table reads empty.
   */
  public <T> Future<T> global(Function<SqlConnection, Future<T>> work) {
    return pool.withTransaction(work);
  }

  /** A cheap round trip, for readiness checks. */
  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  public Pool pool() {
    return pool;
  }

  public Future<Void> close() {
    return pool.close();
  }
}
