package ai.deepchat.chat.conversation;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Group commit of one statement across turns: while a tenant's transaction of it is in flight on this
 * event loop, the next turns' rows wait and then go together, in one transaction (the rows pipelined). Each
 * caller's future completes, with the first row its own call returned, only after the transaction holding
 * its row has committed, so an acknowledged write is in PostgreSQL as before. Nothing waits on purpose: a
 * lone turn commits at once, and batches form only under load. If a batch fails, its rows are retried one
 * transaction each, so one bad row fails only its own turn, as it would have alone.
 *
 * <p>The statement scopes itself to the tenant given as its first parameter (V55's {@code finish_answer}
 * and V56's {@code begin_turn} set it transaction-locally before they write, and refuse a transaction
 * scoped to another tenant), so it runs without BEGIN, tenant setting or COMMIT: alone it is its own
 * transaction, and a batch sent before one Sync ({@code executeBatch}) is one transaction, committed before
 * PostgreSQL answers the Sync. One statement and one round trip per batch instead of four. A batch holds
 * one tenant's rows only.
 *
 * <p>Confined to the context of the verticle that created it (its event loop; no locks), duplicates of it
 * included (where handlers run); a call from any other context runs its own transaction, as without grouping.
 */
final class GroupCommits {

  private record Pending(Tuple row, Promise<Row> done) {
  }

  private final Database db;
  private final Context context;
  private final String sql;
  /** Rows waiting per tenant; a tenant is a key while a transaction of its rows is in flight. */
  private final Map<UUID, List<Pending>> waiting = new HashMap<>();

  /** {@code sql}: a statement whose first parameter is the tenant it scopes itself to (the rest: each row). */
  GroupCommits(Vertx vertx, Database db, String sql) {
    this.db = db;
    this.context = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
    this.sql = sql;
  }

  /**
   * Runs {@code sql} with {@code row} in {@code tenantId}'s scope; completes once committed, with the first
   * row the call returned (null: none).
   */
  Future<Row> execute(UUID tenantId, Tuple row) {
    if (!onOwnContext()) {
      return alone(tenantId, row);
    }
    List<Pending> queue = waiting.get(tenantId);
    if (queue != null) { // a transaction of this tenant is in flight: go with the next one
      Promise<Row> done = Promise.promise();
      queue.add(new Pending(row, done));
      return done.future();
    }
    waiting.put(tenantId, new ArrayList<>());
    return alone(tenantId, row).eventually(() -> {
      next(tenantId);
      return Future.succeededFuture();
    });
  }

  /**
   * Whether the caller runs on the creator's context. A bus message's or request's handler runs on a duplicate
   * of its verticle's context (its own local data, the same event loop): compared as itself, a turn's calls
   * never grouped in the node, only in tests calling from the context itself.
   */
  private boolean onOwnContext() {
    return Vertx.currentContext() instanceof ContextInternal current && current.unwrap() == context;
  }

  /** The rows that waited meanwhile, as one transaction; then again, until none wait. */
  private void next(UUID tenantId) {
    List<Pending> batch = waiting.remove(tenantId);
    if (batch == null || batch.isEmpty()) {
      return;
    }
    waiting.put(tenantId, new ArrayList<>());
    commit(tenantId, batch.stream().map(Pending::row).toList())
        .<Void>transform(ar -> {
          if (ar.succeeded()) {
            for (int i = 0; i < batch.size(); i++) {
              batch.get(i).done().tryComplete(ar.result().get(i));
            }
            return Future.succeededFuture();
          }
          // the batch rolled back whole: each row again, its own transaction, its own outcome
          return Future.join(batch.stream().map(p -> alone(tenantId, p.row()).onComplete(p.done())).toList())
              .transform(all -> Future.succeededFuture());
        })
        .onComplete(ar -> next(tenantId));
  }

  /** The rows' first result rows, in the rows' order. */
  private Future<List<Row>> commit(UUID tenantId, List<Tuple> rows) {
    List<Tuple> scoped = rows.stream().map(row -> scoped(tenantId, row)).toList();
    // no explicit transaction: each call sets its tenant, and the batch's one Sync ends (commits) it
    if (scoped.size() == 1) {
      return db.pool().preparedQuery(sql).execute(scoped.get(0)).map(result -> {
        List<Row> one = new ArrayList<>(1);
        one.add(first(result));
        return one;
      });
    }
    return db.pool().preparedQuery(sql).executeBatch(scoped).map(result -> {
      List<Row> each = new ArrayList<>(scoped.size());
      for (RowSet<Row> r = result; r != null; r = r.next()) { // one result per row sent, in order
        each.add(first(r));
      }
      return each;
    });
  }

  /** The first row of a call's result; null: none. */
  static Row first(RowSet<Row> result) {
    return result.size() == 0 ? null : result.iterator().next();
  }

  /** The tenant as the statement's first parameter, then the row's. */
  static Tuple scoped(UUID tenantId, Tuple row) {
    Tuple t = Tuple.of(tenantId);
    for (int i = 0; i < row.size(); i++) {
      t.addValue(row.getValue(i));
    }
    return t;
  }

  private Future<Row> alone(UUID tenantId, Tuple row) {
    return commit(tenantId, List.of(row)).map(rows -> rows.get(0));
  }
}
