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
 * The CHECK constraints of the tables every model turn writes: the same rules under the same names, refused with
 * the same SQLSTATE. PostgreSQL reads and plans a table's check expressions again in every statement that inserts or
 * updates it (V58 took out the ARRAY[...] folding, about 9% of a turn's PostgreSQL instructions); since V60 those of
 * the text columns are the checks of the columns' domains, which a backend reads and plans once.
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
  void theTurnTablesTextChecksAreTheirColumnsDomainsChecksWithNothingToFold() throws Exception {
    // before V60 all seven were the tables' own; the integer columns keep theirs (a bound Integer needs a cast to
    // reach a domain column, which older nodes do not make)
    assertThat(owner("SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'c' AND "
        + "conrelid IN ('messages'::regclass, 'conversations'::regclass)"))
        .isEqualTo("messages_answer_ms_check,messages_feedback_check,messages_first_token_ms_check");
    assertThat(owner("SELECT string_agg(a.attrelid::regclass || '.' || a.attname || ':' || c.conname, ',' "
        + "ORDER BY c.conname) FROM pg_attribute a JOIN pg_constraint c ON c.contypid = a.atttypid AND c.contype = 'c' "
        + "WHERE a.attrelid IN ('messages'::regclass, 'conversations'::regclass) AND NOT a.attisdropped"))
        .isEqualTo("conversations.channel:conversations_channel_check,"
            + "messages.feedback_comment:messages_feedback_comment_check,messages.role:messages_role_check,"
            + "messages.status:messages_status_check");
    // V58's array constants kept: nothing for the planner to fold
    assertThat(owner("SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace "
        + "AND (contypid <> 0 OR conrelid IN ('messages'::regclass, 'conversations'::regclass)) "
        + "AND conbin::text LIKE '%{ARRAY %'")).isEqualTo("0");
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

  /**
   * An answer's update with every checked column bound as a parameter, as the node binds them: a parameter bound
   * straight to a domain column (V60) is described with the domain's type, which the client encodes only from a
   * String, so the node casts integers to their base type (VisitorConversations, ConversationStore), ready for their
   * checks to move to domains too.
   */
  private static Future<Object> update(String status, Integer feedback, String comment, Integer firstTokenMs,
                                       Integer answerMs) {
    return testDb.database().inTenant(tenant, c -> c.preparedQuery("WITH cv AS (INSERT INTO conversations "
            + "(tenant_id, channel) VALUES (app_tenant(), 'api') RETURNING id), m AS (INSERT INTO messages (tenant_id, "
            + "conversation_id, role, content, status) SELECT app_tenant(), cv.id, 'assistant', '', 'streaming' FROM cv "
            + "RETURNING id) SELECT id FROM m").execute()
        .compose(rows -> c.preparedQuery("UPDATE messages SET status = $2, feedback = $3::smallint, "
                + "feedback_comment = $4, first_token_ms = $5::integer, answer_ms = $6::integer WHERE id = $1 RETURNING status, feedback, feedback_comment, "
                + "first_token_ms, answer_ms")
            .execute(Tuple.of(rows.iterator().next().getUUID("id"), status, feedback, comment, firstTokenMs,
                answerMs)))
        .map(rows -> {
          // read back as the base types (the server describes a domain column by its base type)
          var r = rows.iterator().next();
          assertThat(r.getString("status")).isEqualTo(status);
          assertThat(r.getInteger("feedback")).isEqualTo(feedback);
          assertThat(r.getString("feedback_comment")).isEqualTo(comment);
          assertThat(r.getInteger("first_token_ms")).isEqualTo(firstTokenMs);
          assertThat(r.getInteger("answer_ms")).isEqualTo(answerMs);
          return null;
        }));
  }

  @Test
  void theChecksHoldForUpdatesOfEveryCheckedColumn() throws Exception {
    assertThat(outcome(update("complete", 1, "x".repeat(2000), 0, 0))).isEqualTo("accepted");
    assertThat(outcome(update("interrupted", -1, null, null, null))).isEqualTo("accepted");
    assertThat(outcome(update("done", 1, null, 5, 9))).isEqualTo("messages_status_check");
    assertThat(outcome(update("complete", 3, null, 5, 9))).isEqualTo("messages_feedback_check");
    assertThat(outcome(update("complete", 1, "x".repeat(2001), 5, 9)))
        .isEqualTo("messages_feedback_comment_check");
    assertThat(outcome(update("complete", 1, null, -1, 9))).isEqualTo("messages_first_token_ms_check");
    assertThat(outcome(update("complete", 1, null, 5, -1))).isEqualTo("messages_answer_ms_check");
  }
}
