package ai.deepchat.chat.dispatch;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.util.function.Function;

/**
 * A turn's model choice as a step of its first transaction ({@link ModelDispatcher#inTransaction}), or, where the
 * node's copies hold all it needs, made before any: a turn can then begin in one statement without a transaction
 * around it.
 */
@FunctionalInterface
public interface ModelStep extends Function<SqlConnection, Future<ModelChoice>> {

  /** The same choice made without any statement; null where it needs one (or fails: the step reports why). */
  default ModelChoice withoutStatements() {
    return null;
  }
}
