package ai.deepchat.gateway;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;

import java.net.SocketException;

/**
 * Tells a failure caused by PostgreSQL being unreachable or restarting from other failures. Network
 * failures count as the database's because the database is the one network peer routes pass raw
 * failures from; routes calling other services answer their failures themselves.
 */
final class DatabaseFailures {

  private DatabaseFailures() {
  }

  static boolean unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      // refused, reset while connecting, closed mid-query: the server is stopping or gone
      if (t instanceof SocketException || t instanceof ClosedConnectionException) {
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
