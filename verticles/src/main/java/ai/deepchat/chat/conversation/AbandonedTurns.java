package ai.deepchat.chat.conversation;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/**
 * Gives up the answer a dead node was still generating for a turn, for a caller that knows the node is
 * gone (it held a lease on the turn's work that ran out unrenewed). A retry of the turn then generates a
 * fresh answer at once instead of waiting {@link ConversationStore#STALE_AFTER} for the stalled row, and
 * whatever the old node might still write lands nowhere: its answer row is deleted, the retry gets a new one.
 */
public final class AbandonedTurns {

  private AbandonedTurns() {
  }

  /**
   * Deletes the 'streaming' answer of the turn with {@code idempotencyKey}, in the caller's tenant
   * transaction {@code c}; the number of rows deleted (0: no answer was in progress).
   */
  public static Future<Integer> abandon(SqlConnection c, String idempotencyKey) {
    return c.preparedQuery("DELETE FROM messages a USING messages u WHERE u.idempotency_key = $1 "
            + "AND a.reply_to = u.id AND a.status = 'streaming'")
        .execute(Tuple.of(idempotencyKey))
        .map(rows -> rows.rowCount());
  }
}
