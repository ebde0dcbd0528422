package ai.deepchat.chat.conversation;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Group commit of one statement across turns: while a tenant's transaction of it is in flight on this
 * event loop, the next turns' rows wait and then go together, in one transaction (the rows pipelined). Each
 * caller's future completes only after the transaction holding its row has committed, so an acknowledged
 * write is in PostgreSQL as before. Nothing waits on purpose: a lone turn commits at once, and batches form
 * only under load. If a batch fails, its rows are retried one transaction each, so one bad row fails only
 * its own turn.
 *
 * <p>The statement scopes itself to the tenant given as its first parameter (V55's {@code finish_answer}
 * sets it transaction-locally before it writes), so it runs without BEGIN, tenant setting or COMMIT: alone
 * it is its own transaction, and a batch sent before one Sync ({@code executeBatch}) is one transaction,
 * committed before PostgreSQL answers the Sync. One statement and one round trip per batch instead of four.
 *
 * <p>Confined to the event loop of the verticle that created it (no locks); a call from any other
 * thread runs its own transaction, as without grouping.
 */
final class FinishCommits {

  private record Pending(Tuple row, Promise<Void> done) {
  }

  private final Database db;
  private final Context context;
  private final String sql;
  /** Rows waiting per tenant; a tenant is a key while a transaction of its rows is in flight. */
  private final Map<UUID, List<Pending>> waiting = new HashMap<>();

  /** {@code sql}: a statement whose first parameter is the tenant it scopes itself to (the rest: each row). */
  FinishCommits(Vertx vertx, Database db, String sql) {
    this.db = db;
    this.context = vertx.getOrCreateContext();
    this.sql = sql;
  }

  /** Runs {@code sql} with {@code row} in {@code tenantId}'s scope; completes once committed. */
  Future<Void> execute(UUID tenantId, Tuple row) {
    if (Vertx.currentContext() != context) {
      return alone(tenantId, row);
    }
    List<Pending> queue = waiting.get(tenantId);
    if (queue != null) { // a transaction of this tenant is in flight: go with the next one
      Promise<Void> done = Promise.promise();
      queue.add(new Pending(row, done));
      return done.future();
    }
    waiting.put(tenantId, new ArrayList<>());
    return commit(tenantId, List.of(row)).eventually(() -> {
      next(tenantId);
      return Future.succeededFuture();
    });
  }

  /** The rows that waited meanwhile, as one transaction; then again, until none wait. */
  private void next(UUID tenantId) {
    List<Pending> batch = waiting.remove(tenantId);
    if (batch == null || batch.isEmpty()) {
      return;
    }
    waiting.put(tenantId, new ArrayList<>());
    commit(tenantId, batch.stream().map(Pending::row).toList())
        .recover(err -> Future.all(batch.stream().map(p -> alone(tenantId, p.row())
            .onComplete(p.done())).toList()).mapEmpty())
        .onSuccess(v -> batch.forEach(p -> p.done().tryComplete()))
        .onComplete(ar -> next(tenantId));
  }

  private Future<Void> commit(UUID tenantId, List<Tuple> rows) {
    List<Tuple> scoped = rows.stream().map(row -> scoped(tenantId, row)).toList();
    // no explicit transaction: each call sets its tenant, and the batch's one Sync ends (commits) it
    return scoped.size() == 1
        ? db.pool().preparedQuery(sql).execute(scoped.get(0)).mapEmpty()
        : db.pool().preparedQuery(sql).executeBatch(scoped).mapEmpty();
  }

  /** The tenant as the statement's first parameter, then the row's. */
  static Tuple scoped(UUID tenantId, Tuple row) {
    Tuple t = Tuple.of(tenantId);
    for (int i = 0; i < row.size(); i++) {
      t.addValue(row.getValue(i));
    }
    return t;
  }

  private Future<Void> alone(UUID tenantId, Tuple row) {
    return commit(tenantId, List.of(row));
  }
}
