package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionPropagation;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.spi.DatabaseMetadata;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Collector;

/**
 * The node's pools per event loop as one {@link Pool}: every use (a statement, a transaction, a held
 * connection) picks its lane when it starts ({@link LoopPools#take()}) and gives it back when it ends, so
 * callers keep the pg client's API and the lanes' counts stay true.
 */
final class LanePool implements Pool {

  private final LoopPools pools;

  LanePool(LoopPools pools) {
    this.pools = pools;
  }

  /** {@code use} on a lane taken now (or once one frees), given back when the returned future completes. */
  private <T> Future<T> onLane(Function<Pool, Future<T>> use) {
    return pools.take().compose(lane -> {
      Future<T> result;
      try {
        result = use.apply(lane.pool());
      } catch (RuntimeException e) {
        pools.done(lane);
        return Future.failedFuture(e);
      }
      return result.andThen(ar -> pools.done(lane));
    });
  }

  @Override
  public Future<SqlConnection> getConnection() {
    return pools.take().compose(lane -> lane.pool().getConnection()
        .<SqlConnection>map(conn -> new LaneConnection(conn, () -> pools.done(lane)))
        .onFailure(err -> pools.done(lane)));
  }

  @Override
  public <T> Future<T> withTransaction(Function<SqlConnection, Future<T>> function) {
    return onLane(pool -> pool.withTransaction(function));
  }

  @Override
  public <T> Future<T> withTransaction(TransactionPropagation txPropagation,
                                       Function<SqlConnection, Future<T>> function) {
    return onLane(pool -> pool.withTransaction(txPropagation, function));
  }

  @Override
  public <T> Future<T> withConnection(Function<SqlConnection, Future<T>> function) {
    return onLane(pool -> pool.withConnection(function));
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return new LaneQuery<>(pool -> pool.query(sql));
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return new LanePreparedQuery<>(pool -> pool.preparedQuery(sql));
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return new LanePreparedQuery<>(pool -> pool.preparedQuery(sql, options));
  }

  /** Open connections over every lane. */
  @Override
  public int size() {
    return pools.size();
  }

  @Override
  public Future<Void> close() {
    return pools.close();
  }

  /** A query built on the lane taken when it runs. */
  private final class LaneQuery<T> implements Query<T> {
    private final Function<Pool, Query<T>> build;

    LaneQuery(Function<Pool, Query<T>> build) {
      this.build = build;
    }

    @Override
    public Future<T> execute() {
      return onLane(pool -> build.apply(pool).execute());
    }

    @Override
    public <R> Query<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
      return new LaneQuery<>(pool -> build.apply(pool).collecting(collector));
    }

    @Override
    public <U> Query<RowSet<U>> mapping(Function<Row, U> mapper) {
      return new LaneQuery<>(pool -> build.apply(pool).mapping(mapper));
    }
  }

  /** A prepared query built on the lane taken when it runs. */
  private final class LanePreparedQuery<T> implements PreparedQuery<T> {
    private final Function<Pool, PreparedQuery<T>> build;

    LanePreparedQuery(Function<Pool, PreparedQuery<T>> build) {
      this.build = build;
    }

    @Override
    public Future<T> execute() {
      return onLane(pool -> build.apply(pool).execute());
    }

    @Override
    public Future<T> execute(Tuple tuple) {
      return onLane(pool -> build.apply(pool).execute(tuple));
    }

    @Override
    public Future<T> executeBatch(List<Tuple> batch) {
      return onLane(pool -> build.apply(pool).executeBatch(batch));
    }

    @Override
    public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
      return new LanePreparedQuery<>(pool -> build.apply(pool).collecting(collector));
    }

    @Override
    public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
      return new LanePreparedQuery<>(pool -> build.apply(pool).mapping(mapper));
    }
  }

  /** A held connection of a lane: closing it (back to its pool) gives the lane back, once. */
  private static final class LaneConnection implements SqlConnection {
    private final SqlConnection conn;
    private Runnable release;

    LaneConnection(SqlConnection conn, Runnable release) {
      this.conn = conn;
      this.release = release;
    }

    @Override
    public Future<Void> close() {
      Future<Void> closed = conn.close(); // back in its pool first, so the lane's next use finds it idle
      if (release != null) {
        release.run();
        release = null;
      }
      return closed;
    }

    @Override
    public Future<PreparedStatement> prepare(String sql) {
      return conn.prepare(sql);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
      return conn.prepare(sql, options);
    }

    @Override
    public SqlConnection exceptionHandler(Handler<Throwable> handler) {
      conn.exceptionHandler(handler);
      return this;
    }

    @Override
    public SqlConnection closeHandler(Handler<Void> handler) {
      conn.closeHandler(handler);
      return this;
    }

    @Override
    public Future<Transaction> begin() {
      return conn.begin();
    }

    @Override
    public Transaction transaction() {
      return conn.transaction();
    }

    @Override
    public boolean isSSL() {
      return conn.isSSL();
    }

    @Override
    public DatabaseMetadata databaseMetadata() {
      return conn.databaseMetadata();
    }

    @Override
    public Query<RowSet<Row>> query(String sql) {
      return conn.query(sql);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
      return conn.preparedQuery(sql);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
      return conn.preparedQuery(sql, options);
    }
  }
}
