package ai.deepchat.chat.conversation;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/**
 * Not a test: PostgreSQL's CPU (the one backend's utime + stime from /proc) and the client JVM's CPU per
 * finished answer, one at a time on one connection: the finish as it was (BEGIN, then set_config, the finish
 * statement, COMMIT, each after the previous one's answer) against V55's {@code finish_answer} alone; and a
 * one-statement tenant transaction with the setting sent after BEGIN's answer against behind it; and a turn's
 * begin as it was (a tenant transaction, its writes pipelined) against V56's {@code begin_turn} alone, for an API
 * turn (new conversation) and a continuing widget turn with an idempotency key. Process CPU, so firm-ish under
 * load (an upper bound). Run: docs/performance.md, eleventh session, helper "pgturn", and twelfth, "pgbegin".
 */
public class TurnTransactionsMicrobench {

  private static final String FINISH = "WITH answer AS (UPDATE messages SET status = $2, content = $3, "
      + "reasoning = $4, citations = $5, intent = $6, intent_score = $7, prompt_tokens = $8, "
      + "completion_tokens = $9, trace = $10, finish_reason = $11, tool_calls = $12, first_token_ms = $13::integer, "
      + "answer_ms = $14::integer, faq_entry_id = $16, updated_at = now() WHERE id = $1 AND status = 'streaming') "
      + "UPDATE conversations SET updated_at = now() WHERE id = $15";
  private static final String SET_TENANT = "SELECT set_config('app.tenant_id', $1, true)";

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    Vertx vertx = Vertx.vertx();
    TestDatabase testDb = TestDatabase.fresh(vertx);
    Database db = testDb.pool(vertx, 1);
    Pool pool = db.pool();
    UUID tenant = await(testDb.database().global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES "
        + "('micro', 'M') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    int backend = await(pool.query("SELECT pg_backend_pid()").execute().map(r -> r.iterator().next().getInteger(0)));
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<UUID> widgetConversations = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (String mode : new String[] {"finish: BEGIN, set_config, finish, COMMIT", "finish: finish_answer alone",
          "tx: set_config after BEGIN's answer", "tx: set_config behind BEGIN",
          "begin api: in a transaction, writes pipelined", "begin api: begin_turn alone",
          "begin widget: in a transaction, writes pipelined", "begin widget: begin_turn alone"}) {
        if (mode.startsWith("begin widget") && widgetConversations.isEmpty()) {
          widgetConversations.addAll(widgetConversations(testDb, tenant, n));
        }
        List<UUID[]> turns = mode.startsWith("finish") ? streamingTurns(testDb, tenant, n) : List.of();
        long pg0 = backendTicks(backend);
        long jvm0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          UUID[] t = turns.isEmpty() ? null : turns.get(i);
          Future<?> done = mode.startsWith("begin") ? begin(db, tenant, mode, i,
              widgetConversations.isEmpty() ? null : widgetConversations.get(i % widgetConversations.size()))
              : switch (mode.charAt(mode.length() - 1)) {
            case 'T' -> pool.withTransaction(c -> c.preparedQuery(SET_TENANT).execute(Tuple.of(tenant.toString()))
                .compose(v -> c.preparedQuery(FINISH).execute(row(t))));
            case 'e' -> pool.preparedQuery("SELECT finish_answer($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                + "$13, $14, $15, $16, $17)").execute(withTenant(tenant, row(t)));
            case 'r' -> pool.withTransaction(c -> c.preparedQuery(SET_TENANT).execute(Tuple.of(tenant.toString()))
                .compose(v -> c.preparedQuery("SELECT count(*) FROM tenant_settings").execute()));
            default -> db.inTenant(tenant, c -> c.preparedQuery("SELECT count(*) FROM tenant_settings").execute());
          };
          await(done);
        }
        long wall = System.nanoTime() - t0;
        long jvm = os.getProcessCpuTime() - jvm0;
        long pg = (backendTicks(backend) - pg0) * 10_000_000L; // clock ticks of 10 ms, in ns
        System.out.printf("round %d | %-45s | n %d | wall %6.1f us | postgres backend %6.1f us | client JVM %6.1f us%n",
            round, mode, n, wall / 1e3 / n, pg / 1e3 / n, jvm / 1e3 / n);
      }
    }
    await(vertx.close());
    System.exit(0);
  }

  /** The base's begin statements (before V56), as ConversationStore sent them. */
  private static final String INSERT_CONVERSATION = "INSERT INTO conversations (id, tenant_id, visitor_id, channel, "
      + "title, model_version_id) VALUES ($1, app_tenant(), $2, $3, $4, $5)";
  private static final String UPDATE_CONVERSATION = "UPDATE conversations SET updated_at = now(), "
      + "model_version_id = COALESCE($4, model_version_id) "
      + "WHERE id = $1 AND channel = $2 AND visitor_id IS NOT DISTINCT FROM $3";
  private static final String LOOKUP = "SELECT u.id AS user_id, u.conversation_id, cv.channel, cv.visitor_id, "
      + "a.id AS answer_id, a.status, a.content, a.reasoning, a.citations, a.intent, a.prompt_tokens, "
      + "a.completion_tokens, a.finish_reason, a.tool_calls, a.updated_at < now() - interval '2 minutes' AS stale "
      + "FROM messages u JOIN conversations cv ON cv.id = u.conversation_id "
      + "LEFT JOIN messages a ON a.reply_to = u.id WHERE u.idempotency_key = $1 FOR UPDATE OF u";
  private static final String HISTORY = "SELECT role, content FROM messages WHERE conversation_id = $1 "
      + "AND status = 'complete' AND content <> '' AND role IN ('user', 'assistant') ORDER BY created_at DESC LIMIT 200";
  private static final String INSERT_MESSAGE = "INSERT INTO messages (tenant_id, conversation_id, role, content, "
      + "status, idempotency_key, tool_call_id, media_id, created_at) VALUES (app_tenant(), $1, $4, $2, "
      + "'complete', $3, $5, $6, clock_timestamp())";
  private static final String INSERT_MESSAGE_AND_ANSWER = "WITH question AS (" + INSERT_MESSAGE
      + " RETURNING id, created_at) INSERT INTO messages (tenant_id, conversation_id, role, content, status, reply_to, "
      + "model_version_id, created_at) SELECT app_tenant(), $1, 'assistant', '', 'streaming', question.id, $7, "
      + "greatest(clock_timestamp(), question.created_at + interval '1 microsecond') FROM question "
      + "RETURNING reply_to, id";
  private static final String BEGIN_TURN = "SELECT key_used, conversation_found, user_id, answer_id, history_roles, "
      + "history_contents FROM begin_turn($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

  /** One begin: an API turn on a new conversation, or a widget turn with a new key on {@code conversation}. */
  private static Future<?> begin(Database db, UUID tenant, String mode, int i, UUID conversation) {
    boolean widget = mode.startsWith("begin widget");
    UUID conv = widget ? conversation : UUID.randomUUID();
    String channel = widget ? "widget" : "api";
    String visitor = widget ? "visitor" : null;
    String key = widget ? "key-" + UUID.randomUUID() : null;
    String question = "When does the shop open on Sundays? " + i;
    if (mode.endsWith("alone")) {
      return db.pool().preparedQuery(BEGIN_TURN).execute(Tuple.tuple(java.util.Arrays.asList(tenant, conv, widget,
          channel, visitor, widget ? null : question, null, "user", question, key, null, null, true, widget, true)));
    }
    Tuple message = Tuple.tuple(java.util.Arrays.asList(conv, question, key, "user", null, null, null));
    return db.inTenant(tenant, c -> {
      Future<?> lookup = key == null ? Future.succeededFuture() : c.preparedQuery(LOOKUP).execute(Tuple.of(key));
      return lookup.compose(none -> {
        Future<?> conversationStatement = widget
            ? c.preparedQuery(UPDATE_CONVERSATION).execute(Tuple.tuple(java.util.Arrays.asList(conv, channel, visitor,
                null)))
            : c.preparedQuery(INSERT_CONVERSATION).execute(Tuple.tuple(java.util.Arrays.asList(conv, visitor, channel,
                question, null)));
        Future<?> history = widget ? c.preparedQuery(HISTORY).execute(Tuple.of(conv)) : Future.succeededFuture();
        Future<?> inserted = c.preparedQuery(INSERT_MESSAGE_AND_ANSWER).execute(message);
        return conversationStatement.compose(v -> history).compose(v -> inserted);
      });
    });
  }

  /** {@code n} widget conversations of one visitor, each with one complete turn (as the owner). */
  private static List<UUID> widgetConversations(TestDatabase testDb, UUID tenant, int n) throws Exception {
    List<UUID> made = new ArrayList<>();
    try (var c = testDb.ownerJdbc(); var s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE widget_made AS SELECT gen_random_uuid() AS conv FROM generate_series(1, " + n + ")");
      s.execute("INSERT INTO conversations (id, tenant_id, channel, visitor_id) SELECT conv, '" + tenant
          + "', 'widget', 'visitor' FROM widget_made");
      s.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, created_at) SELECT '" + tenant
          + "', conv, 'user', 'hello', now() - interval '1 second' FROM widget_made");
      s.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, created_at) SELECT '" + tenant
          + "', conv, 'assistant', 'Hello! How can I help?', now() FROM widget_made");
      try (ResultSet rs = s.executeQuery("SELECT conv FROM widget_made")) {
        while (rs.next()) {
          made.add((UUID) rs.getObject(1));
        }
      }
      s.execute("ANALYZE messages; ANALYZE conversations");
    }
    return made;
  }

  private static Tuple withTenant(UUID tenant, Tuple row) {
    Tuple t = Tuple.of(tenant);
    for (int i = 0; i < row.size(); i++) {
      t.addValue(row.getValue(i));
    }
    return t;
  }

  private static Tuple row(UUID[] t) {
    return ConversationStore.finishRow(t[0], t[1], "complete", "The shop opens at nine.", null, List.of(), "chat", 0.5,
        new ai.deepchat.platform.engine.EngineMessages.Usage(12, 16), null, "stop", List.of(), null, null);
  }

  /** {@code n} conversations, each with a question and an answer row in status 'streaming' (as the owner). */
  private static List<UUID[]> streamingTurns(TestDatabase testDb, UUID tenant, int n) throws Exception {
    List<UUID[]> turns = new ArrayList<>();
    try (var c = testDb.ownerJdbc(); var s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE made AS SELECT gen_random_uuid() AS conv, gen_random_uuid() AS q, "
          + "gen_random_uuid() AS a FROM generate_series(1, " + n + ")");
      s.execute("INSERT INTO conversations (id, tenant_id, channel) SELECT conv, '" + tenant + "', 'api' FROM made");
      s.execute("INSERT INTO messages (id, tenant_id, conversation_id, role, content) SELECT q, '" + tenant
          + "', conv, 'user', 'q' FROM made");
      s.execute("INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, reply_to) SELECT a, '"
          + tenant + "', conv, 'assistant', '', 'streaming', q FROM made");
      try (ResultSet rs = s.executeQuery("SELECT conv, a FROM made")) {
        while (rs.next()) {
          turns.add(new UUID[] {(UUID) rs.getObject(1), (UUID) rs.getObject(2)});
        }
      }
      s.execute("ANALYZE messages; ANALYZE conversations");
    }
    return turns;
  }

  private static long backendTicks(int pid) throws Exception {
    String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ")[1].split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
  }
}
