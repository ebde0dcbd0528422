package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CHECK constraints of the tables every model turn writes (V58): the same rules under the same names, stored
 * so that a statement has no expression to fold. PostgreSQL reads and plans a table's check expressions again in
 * every statement that inserts or updates it; an {@code IN (...)} list is stored as an ARRAY[...] expression that
 * the planner folds into a constant each time (about 9% of a turn's PostgreSQL instructions before V58).
 */
class TurnCheckConstraintsTest {

  private static Vertx vertx;
  private static TestDatabase testDb;
  private static UUID tenant;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    testDb = TestDatabase.fresh(vertx);
    tenant = await(testDb.tenant("turn-checks"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  private static String owner(String sql) throws Exception {
    try (var c = testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void theTurnTablesChecksHoldNoArrayExpressionToFold() throws Exception {
    // before V58: messages' status, role and feedback checks and conversations' channel check (4)
    assertThat(owner("SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid IN "
        + "('messages'::regclass, 'conversations'::regclass) AND conbin::text LIKE '%{ARRAY %'")).isEqualTo("0");
    assertThat(owner("SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'c' AND "
        + "conrelid IN ('messages'::regclass, 'conversations'::regclass)")).isEqualTo("conversations_channel_check,"
        + "messages_answer_ms_check,messages_feedback_check,messages_feedback_comment_check,"
        + "messages_first_token_ms_check,messages_role_check,messages_status_check");
  }

  /** A message of a new conversation on {@code channel}: its role, status and feedback as given. */
  private static Future<Object> message(String channel, String role, String status, Integer feedback) {
    return testDb.database().inTenant(tenant, c -> c.preparedQuery("WITH cv AS (INSERT INTO conversations "
            + "(tenant_id, channel) VALUES (app_tenant(), $1) RETURNING id) INSERT INTO messages (tenant_id, "
            + "conversation_id, role, content, status, feedback) SELECT app_tenant(), cv.id, $2, 'x', $3, $4::int FROM cv")
        .execute(Tuple.of(channel, role, status, feedback)).map(r -> null));
  }

  /** The constraint that refused {@code write}, or "accepted". */
  private static String outcome(Future<Object> write) throws Exception {
    await(write.otherwiseEmpty());
    if (write.succeeded()) {
      return "accepted";
    }
    assertThat(write.cause()).isInstanceOf(PgException.class);
    PgException e = (PgException) write.cause();
    assertThat(e.getSqlState()).isEqualTo("23514");
    return e.getConstraint();
  }

  @Test
  void theChecksRefuseAndAcceptWhatTheyDidBefore() throws Exception {
    assertThat(outcome(message("wecom", "tool", "blocked", -1))).isEqualTo("accepted");
    assertThat(outcome(message("api", "assistant", "interrupted", 1))).isEqualTo("accepted");
    assertThat(outcome(message("widget", "system", "streaming", null))).isEqualTo("accepted");
    assertThat(outcome(message("fax", "user", "complete", null))).isEqualTo("conversations_channel_check");
    assertThat(outcome(message("api", "robot", "complete", null))).isEqualTo("messages_role_check");
    assertThat(outcome(message("api", "user", "bogus", null))).isEqualTo("messages_status_check");
    assertThat(outcome(message("api", "user", "complete", 0))).isEqualTo("messages_feedback_check");
    assertThat(outcome(message("api", "user", "complete", 2))).isEqualTo("messages_feedback_check");
    // case matters, as it did for IN (...)
    assertThat(outcome(message("API", "user", "complete", null))).isEqualTo("conversations_channel_check");
    assertThat(outcome(message("api", "User", "complete", null))).isEqualTo("messages_role_check");
  }
}
