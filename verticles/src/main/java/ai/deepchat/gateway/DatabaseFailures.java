package ai.deepchat.gateway;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;

import java.net.ConnectException;

/** Tells a failure caused by PostgreSQL being unreachable or restarting from other failures. */
final class DatabaseFailures {

  private DatabaseFailures() {
  }

  static boolean unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException || t instanceof ClosedConnectionException) {
        return true;
      }
      if (t instanceof PgException pg && pg.getSqlState() != null
          // 08: connection exceptions; 57P0x: admin/crash shutdown, cannot connect now
          && (pg.getSqlState().startsWith("08") || pg.getSqlState().startsWith("57P0"))) {
        return true;
      }
      if (t.getClass().getName().equals("io.vertx.core.impl.NoStackTraceTimeoutException")
          || (t.getMessage() != null && t.getMessage().contains("Timeout while waiting for a connection"))) {
        return true;
      }
    }
    return false;
  }
}
