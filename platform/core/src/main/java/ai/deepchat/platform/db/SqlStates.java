package ai.deepchat.platform.db;

import io.vertx.pgclient.PgException;

/** PostgreSQL error codes (SQLSTATE) the application tells apart. */
public final class SqlStates {

  /** unique_violation: a row with that key exists already. */
  public static final String UNIQUE_VIOLATION = "23505";

  private SqlStates() {
  }

  /** Whether {@code err} is PostgreSQL refusing a duplicate key. */
  public static boolean isUniqueViolation(Throwable err) {
    return err instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState());
  }
}
