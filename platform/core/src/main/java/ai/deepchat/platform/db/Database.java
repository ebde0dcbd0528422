package ai.deepchat.platform.db;

import ai.deepchat.platform.security.ApiKeyCache;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionRollbackException;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

/**
 * The application's access to PostgreSQL. The pool (one per event loop with DB_POOL_PER_EVENT_LOOP, {@link LoopPools})
 * connect as {@code deepchat_app}, which row-level security confines to the tenant set in the current
 * transaction. Sessions are never given a tenant: a pooled connection keeps session state, so the tenant
 * is set transaction-locally on every use.
 */
public final class Database {

  /** Keys cached per node (per pool): enough for every active key of a large installation. */
  private static final long API_KEY_CACHE_ENTRIES = 100_000;

  private final LoopPools pools;
  private final PgConnectOptions connectOptions;
  private final ApiKeyCache apiKeys = new ApiKeyCache(API_KEY_CACHE_ENTRIES);
  /** Widget conversations known to have no open handoff (V51's trigger announces every opening). */
  private final KnownAbsent withoutOpenHandoff = new KnownAbsent("deepchat_handoff_opened", "no_open_handoff", 50_000);
  /** Each tenant's chat settings as the turn pipeline reads them (V53's trigger announces every change). */
  private final TenantValues<Object> chatSettings = new TenantValues<>("deepchat_tenant_settings_changed",
      "tenant_chat_settings", 100_000);
  /** Each tenant's serving model version and rollout candidate (V54's triggers announce every change). */
  private final TenantValues<Object> modelRouting = new TenantValues<>("deepchat_model_routing_changed",
      "tenant_model_routing", 100_000);

  public Database(Pool pool) {
    this(pool, null);
  }

  /** With {@code connectOptions} (the pool's), {@code AuthChangeVerticle} can open its LISTEN connection. */
  public Database(Pool pool, PgConnectOptions connectOptions) {
    this(LoopPools.single(pool), connectOptions);
  }

  Database(LoopPools pools, PgConnectOptions connectOptions) {
    this.pools = pools;
    this.connectOptions = connectOptions;
  }

  /**
   * Runs {@code work} in one transaction scoped to {@code tenantId}; rows of other tenants are
   * invisible and cannot be written. Commits when the returned future succeeds, rolls back otherwise.
   */
  public <T> Future<T> inTenant(UUID tenantId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(tenantId, "tenantId");
    // As Pool.withTransaction, except that the tenant setting is sent right behind BEGIN instead of after
    // its answer: one round trip for both (the connection pipelines them). The work starts only once both
    // have succeeded, so none of it can run outside the transaction or without its tenant.
    return pools.take().compose(lane -> lane.pool().getConnection().onFailure(err -> pools.done(lane)).compose(conn -> {
      Future<Transaction> begun = conn.begin();
      Future<?> scoped = conn.preparedQuery(SET_TENANT).execute(Tuple.of(tenantId.toString()));
      return begun
          .compose(tx -> scoped.compose(ignored -> work.apply(conn)).compose(
              result -> tx.commit().map(result),
              err -> err instanceof TransactionRollbackException ? Future.<T>failedFuture(err)
                  : tx.rollback().transform(ignored -> Future.<T>failedFuture(err))))
          // closing a connection whose transaction is still open (BEGIN or the setting failed) rolls it back
          .onComplete(ar -> {
            conn.close(); // back in its pool first, so the lane's next use finds it idle
            pools.done(lane);
          });
    }));
  }

  private static final String SET_TENANT = "SELECT set_config('app.tenant_id', $1, true)";

  /**
   * Runs {@code work} in a transaction with no tenant: only the global tables (tenants directory,
   * platform admins) are visible; every tenant-owned table reads empty.
   */
  public <T> Future<T> global(Function<SqlConnection, Future<T>> work) {
    return pools.client().withTransaction(work);
  }

  /** A cheap round trip, for readiness checks. */
  public Future<Void> ping() {
    return pools.client().query("SELECT 1").execute().mapEmpty();
  }

  /**
   * The pool to run statements on. With a pool per event loop (#25) it picks, for each statement, transaction
   * or held connection, the calling loop's pool (whose connections live on that loop), or another loop's idle
   * connection when the caller's are all busy ({@link LoopPools#take()}).
   */
  public Pool pool() {
    return pools.client();
  }

  /** Uses of the per-event-loop pools so far: own, borrowed, waited (all zero with one pool). */
  public PoolUses poolUses() {
    return pools.uses();
  }

  /** How many pools the connections are shared out over (1, or one per event loop). */
  public int poolCount() {
    return pools.count();
  }

  /** How the pool connects, for a connection of its own (LISTEN); null when not known. */
  public PgConnectOptions connectOptions() {
    return connectOptions;
  }

  /** Found API keys; serves only while an {@code AuthChangeVerticle} listens on this database. */
  public ApiKeyCache apiKeys() {
    return apiKeys;
  }

  /** Conversations known to have no open handoff; served only while an {@code AuthChangeVerticle} listens. */
  public KnownAbsent withoutOpenHandoff() {
    return withoutOpenHandoff;
  }

  /**
   * Each tenant's chat settings (the turn pipeline's own record of them: values are of the one type its owner
   * stores); served only while an {@code AuthChangeVerticle} listens.
   */
  public TenantValues<Object> chatSettings() {
    return chatSettings;
  }

  /**
   * Each tenant's serving model version and rollout candidate as the model dispatcher reads them (values of
   * its own type); served only while an {@code AuthChangeVerticle} listens.
   */
  public TenantValues<Object> modelRouting() {
    return modelRouting;
  }

  /** Every cache kept by notifications on this database, for the one LISTEN connection that feeds them. */
  public List<ListenedCache> listenedCaches() {
    return List.of(apiKeys, withoutOpenHandoff, chatSettings, modelRouting);
  }

  public Future<Void> close() {
    return pools.close();
  }
}
