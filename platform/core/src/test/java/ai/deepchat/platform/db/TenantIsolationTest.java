package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY scenarios 18-21 over EVERY tenant table the catalogue lists (a table added later is
 * covered without editing this test, and must get a seed row below): the catalogue audit, tenant A's
 * reads and writes on B's rows, no tenant set, and a small pool shared by two tenants.
 */
@ExtendWith(VertxExtension.class)
class TenantIsolationTest {

  /** One row in each tenant table for tenant %1$s (written as the owner). */
  private static final String SEED = """
      INSERT INTO tenant_settings (tenant_id) VALUES ('%1$s');
      INSERT INTO users (tenant_id, email, password_hash, role) VALUES ('%1$s', 'u@example.test', 'h', 'owner');
      INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES ('%1$s', 'k', 'p', 'hash-%1$s');
      INSERT INTO model_versions (tenant_id, name, backend, location) VALUES ('%1$s', 'm', 'local', 'x');
      INSERT INTO rollouts (tenant_id, mode, stable_version_id) SELECT tenant_id, 'canary', id FROM model_versions WHERE tenant_id = '%1$s';
      INSERT INTO conversations (tenant_id, title) VALUES ('%1$s', 'secret of %1$s');
      INSERT INTO messages (tenant_id, conversation_id, role, content) SELECT tenant_id, id, 'user', 'hi' FROM conversations WHERE tenant_id = '%1$s';
      INSERT INTO knowledge_bases (tenant_id, name) VALUES ('%1$s', 'kb');
      INSERT INTO documents (tenant_id, knowledge_base_id, title, source_name, content_type, content_hash)
        SELECT tenant_id, id, 'd', 'd.md', 'text/markdown', 'h' FROM knowledge_bases WHERE tenant_id = '%1$s';
      INSERT INTO chunks (tenant_id, knowledge_base_id, document_id, ordinal, text)
        SELECT tenant_id, knowledge_base_id, id, 0, 't' FROM documents WHERE tenant_id = '%1$s';
      INSERT INTO audit_log (tenant_id, actor, action, prev_hash, hash) VALUES ('%1$s', 'a', 'x', '', 'h');
      INSERT INTO widget_settings (tenant_id, public_key) VALUES ('%1$s', 'pk_%1$s');
      INSERT INTO faq_entries (tenant_id, question, answer) VALUES ('%1$s', 'q', 'a');
      INSERT INTO intent_rules (tenant_id, intent, kind, pattern) VALUES ('%1$s', 'faq', 'keyword', 'p');
      INSERT INTO sensitive_words (tenant_id, word) VALUES ('%1$s', 'w');
      INSERT INTO plugin_configs (tenant_id, plugin) VALUES ('%1$s', 'p');
      INSERT INTO shadow_answers (tenant_id, rollout_id, stable_version_id, candidate_version_id, prompt, stable_answer)
        VALUES ('%1$s', gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'p', 'a');
      INSERT INTO rollout_outcomes (tenant_id, rollout_id, version_id, role, ok, total_ms)
        SELECT tenant_id, id, stable_version_id, 'stable', true, 1 FROM rollouts WHERE tenant_id = '%1$s';
      INSERT INTO erased_visitors (tenant_id, visitor_hash) VALUES ('%1$s', sha256(convert_to('v_%1$s', 'UTF8')));
      INSERT INTO eval_sets (tenant_id, knowledge_base_id, name, questions, question_count)
        SELECT tenant_id, id, 'e', '[]', 0 FROM knowledge_bases WHERE tenant_id = '%1$s';
      INSERT INTO eval_runs (tenant_id, knowledge_base_id, eval_set_id)
        SELECT tenant_id, knowledge_base_id, id FROM eval_sets WHERE tenant_id = '%1$s';
      INSERT INTO web_sources (tenant_id, knowledge_base_id, start_url, whole_site, max_depth, max_pages)
        SELECT tenant_id, id, 'https://example.test/', false, 0, 1 FROM knowledge_bases WHERE tenant_id = '%1$s';
      INSERT INTO web_source_pages (tenant_id, source_id, url, depth, status)
        SELECT tenant_id, id, start_url, 0, 'added' FROM web_sources WHERE tenant_id = '%1$s';
      INSERT INTO widget_refused_origins (tenant_id, origin, refusals, first_seen, last_seen)
        VALUES ('%1$s', 'https://refused.example', 1, now(), now());
      INSERT INTO handoff_settings (tenant_id) VALUES ('%1$s');
      INSERT INTO handoffs (tenant_id, conversation_id, reason) SELECT tenant_id, id, 'button' FROM conversations WHERE tenant_id = '%1$s';
      INSERT INTO handoff_messages (tenant_id, conversation_id, kind, text, client_id)
        SELECT tenant_id, id, 'note', 'n', 'c' FROM conversations WHERE tenant_id = '%1$s';
      INSERT INTO agent_presence (tenant_id, user_id) SELECT tenant_id, id FROM users WHERE tenant_id = '%1$s';
      INSERT INTO canned_replies (tenant_id, title, text) VALUES ('%1$s', 't', 'x');
      INSERT INTO tickets (tenant_id, conversation_id, message) SELECT tenant_id, id, 'm' FROM conversations WHERE tenant_id = '%1$s';
      INSERT INTO channels (tenant_id, kind, name, app_id, app_secret, token, mode)
        VALUES ('%1$s', 'wechat', 'c', 'wx1', 's', 't', 'plaintext');
      INSERT INTO channel_messages (tenant_id, channel_id, dedupe_key, open_id, msg_type, question)
        SELECT tenant_id, id, 'msg:1', 'o1', 'text', 'q' FROM channels WHERE tenant_id = '%1$s';
      INSERT INTO channel_media (tenant_id, channel_id, open_id, content_type, size_bytes, data)
        SELECT tenant_id, id, 'o1', 'image/png', 1, '\\x89'::bytea FROM channels WHERE tenant_id = '%1$s';
      INSERT INTO datasets (tenant_id, name) VALUES ('%1$s', 'ds');
      INSERT INTO dataset_examples (tenant_id, dataset_id, kind, conversation_id, original)
        SELECT d.tenant_id, d.id, 'sft', c.id, '{}' FROM datasets d JOIN conversations c ON c.tenant_id = d.tenant_id
        WHERE d.tenant_id = '%1$s';
      INSERT INTO dataset_versions (tenant_id, dataset_id, number, sft_examples, preference_pairs, created_by)
        SELECT tenant_id, id, 1, 1, 0, 'a' FROM datasets WHERE tenant_id = '%1$s';
      INSERT INTO dataset_version_examples (tenant_id, dataset_id, number, example_id, kind, position, line)
        SELECT tenant_id, dataset_id, 1, id, kind, 1, original FROM dataset_examples WHERE tenant_id = '%1$s';
      INSERT INTO conversation_ratings (tenant_id, conversation_id, handoff_id, score)
        SELECT tenant_id, conversation_id, id, 5 FROM handoffs WHERE tenant_id = '%1$s';
      INSERT INTO query_translation_usage (tenant_id, day, calls) VALUES ('%1$s', current_date, 1);
      """;

  /** A refusal: row-level security's WITH CHECK, a missing grant (both 42501), a tenant reference (23503). */
  private static final List<String> REFUSED = List.of("42501", "23503");

  static TestDatabase testDb;
  static Database db;
  static UUID a;
  static UUID b;
  static List<String> tenantTables;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    testDb = TestDatabase.fresh(vertx);
    db = testDb.database();
    a = UUID.randomUUID();
    b = UUID.randomUUID();
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement()) {
      for (UUID t : List.of(a, b)) {
        s.execute("INSERT INTO tenants (id, slug, name) VALUES ('" + t + "', 't-" + t + "', 't')");
        s.execute(String.format(SEED, t));
      }
      tenantTables = ownerColumn(c, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          + "JOIN pg_attribute att ON att.attrelid = c.oid WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
          + "AND att.attname = 'tenant_id' AND NOT att.attisdropped ORDER BY 1");
      for (String table : tenantTables) {
        for (UUID t : List.of(a, b)) {
          assertThat(ownerColumn(c, "SELECT count(*) FROM " + table + " WHERE tenant_id = '" + t + "'"))
              .as("seed a row of new tenant table " + table + " in TenantIsolationTest.SEED").doesNotContain("0");
        }
      }
    }
    assertThat(tenantTables).hasSizeGreaterThanOrEqualTo(17);
  }

  static List<String> ownerColumn(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** "rows N" for a statement that ran in {@code tenant}'s transaction, or "sqlstate X" when refused. */
  static String outcome(UUID tenant, String sql) throws Exception {
    return await(db.inTenant(tenant, c -> c.query(sql).execute().map(r -> "rows " + r.rowCount()))
        .recover(e -> e instanceof PgException pg ? Future.succeededFuture("sqlstate " + pg.getSqlState())
            : Future.failedFuture(e)));
  }

  static long count(Future<Long> f) throws Exception {
    return await(f);
  }

  // Scenario 18
  @Test
  void catalogueAuditEveryTenantTableForcesRlsAndTheAppRoleIsPlain() throws Exception {
    try (Connection c = testDb.ownerJdbc()) {
      for (String table : tenantTables) {
        assertThat(ownerColumn(c, "SELECT relrowsecurity::text || ' ' || relforcerowsecurity::text FROM pg_class "
            + "WHERE oid = 'public." + table + "'::regclass")).as(table).containsExactly("true true");
        // every policy that applies to the app role confines it to the transaction's tenant
        assertThat(ownerColumn(c, "SELECT policyname || ': ' || coalesce(qual, '') || ' / ' || coalesce(with_check, '') "
            + "FROM pg_policies WHERE schemaname = 'public' AND tablename = '" + table + "' "
            + "AND roles && ARRAY['deepchat_app', 'public']::name[]"))
            .as(table).isNotEmpty().allSatisfy(p -> assertThat(p).matches(
                "[a-z_]+: \\(tenant_id = app_tenant\\(\\)\\) / (\\(tenant_id = app_tenant\\(\\)\\))?"));
      }
      assertThat(ownerColumn(c, "SELECT concat_ws(' ', rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication) "
          + "FROM pg_roles WHERE rolname = 'deepchat_app'")).containsExactly("f f f f f");
      assertThat(ownerColumn(c, "SELECT roleid::regrole::text FROM pg_auth_members WHERE member = 'deepchat_app'::regrole"))
          .as("member of no role (whose rights it would have)").isEmpty();
      assertThat(ownerColumn(c, "SELECT relname FROM pg_class WHERE relowner = 'deepchat_app'::regrole "
          + "UNION ALL SELECT proname FROM pg_proc WHERE proowner = 'deepchat_app'::regrole "
          + "UNION ALL SELECT nspname FROM pg_namespace WHERE nspowner = 'deepchat_app'::regrole"))
          .as("owns nothing").isEmpty();
      // a view runs with its owner's rights, past row-level security: the app may read none
      assertThat(ownerColumn(c, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          + "WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm') AND has_table_privilege('deepchat_app', c.oid, 'SELECT')"))
          .isEmpty();
    }
  }

  // Scenario 19
  @Test
  void tenantAOnBsRowsReadsNothingAndWritesNothing() throws Exception {
    for (String table : tenantTables) {
      String other = "tenant_id = '" + b + "'";
      assertThat(outcome(a, "SELECT 1 FROM " + table + " WHERE " + other)).as("read " + table).isEqualTo("rows 0");
      assertThat(outcome(a, "SELECT 1 FROM " + table + " WHERE tenant_id <> '" + a + "'")).as("read all " + table)
          .isEqualTo("rows 0");
      assertThat(outcome(a, "UPDATE " + table + " SET tenant_id = tenant_id WHERE " + other)).as("update " + table)
          .isIn("rows 0", "sqlstate 42501");
      assertThat(outcome(a, "DELETE FROM " + table + " WHERE " + other)).as("delete " + table)
          .isIn("rows 0", "sqlstate 42501");
      assertThat(outcome(a, "UPDATE " + table + " SET tenant_id = '" + b + "'")).as("move own rows into " + table)
          .isIn(REFUSED.stream().map(s -> "sqlstate " + s).toArray());
      assertThat(outcome(a, insertCopyOf(table, b))).as("insert into B's " + table)
          .isIn(REFUSED.stream().map(s -> "sqlstate " + s).toArray());
    }
    // B's rows are all still there, unchanged
    try (Connection c = testDb.ownerJdbc()) {
      for (String table : tenantTables) {
        assertThat(ownerColumn(c, "SELECT count(*) FROM " + table + " WHERE tenant_id = '" + b + "'")).as(table)
            .doesNotContain("0");
      }
      assertThat(ownerColumn(c, "SELECT title FROM conversations WHERE tenant_id = '" + b + "'"))
          .containsExactly("secret of " + b);
    }
  }

  /** An INSERT of B's own row (every column the table lets one write), run in A's transaction. */
  private static String insertCopyOf(String table, UUID tenant) throws Exception {
    try (Connection c = testDb.ownerJdbc()) {
      String columns = String.join(", ", ownerColumn(c, "SELECT quote_ident(attname) FROM pg_attribute "
          + "WHERE attrelid = 'public." + table + "'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' "
          + "ORDER BY attnum"));
      String row = ownerColumn(c, "SELECT to_jsonb(t)::text FROM " + table + " t WHERE tenant_id = '" + tenant + "' LIMIT 1")
          .get(0);
      return "INSERT INTO " + table + " (" + columns + ") OVERRIDING SYSTEM VALUE SELECT " + columns
          + " FROM jsonb_populate_record(NULL::" + table + ", '" + row.replace("'", "''") + "'::jsonb)";
    }
  }

  // Scenario 20
  @Test
  void noTenantSetReadsNothingInAnyTenantTable() throws Exception {
    for (String table : tenantTables) {
      assertThat(count(db.global(c -> c.query("SELECT count(*) FROM " + table).execute()
          .map(rows -> rows.iterator().next().getLong(0))))).as(table).isZero();
      assertThat(count(db.global(c -> c.query("SELECT set_config('app.tenant_id', '', true)").execute()
          .compose(x -> c.query("SELECT count(*) FROM " + table).execute())
          .map(rows -> rows.iterator().next().getLong(0))))).as(table + ", empty tenant").isZero();
    }
  }

  // Scenario 21
  @Test
  void aPoolOfOneOrTwoConnectionsNeverServesOneTenantAnothersRows(Vertx vertx) throws Exception {
    // sizes 1 and 2 as one pool; 3 as a pool per event loop, whose callers borrow each other's connections
    for (int poolSize = 1; poolSize <= 3; poolSize++) {
      Database small = testDb.pool(vertx, poolSize, poolSize == 3);
      try {
        List<Future<String>> requests = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
          UUID caller = i % 2 == 0 ? a : b;
          if (i % 10 == 9) { // a failing request now and then: its rollback must not leave its tenant behind
            requests.add(onLoop(vertx, i, () -> small.inTenant(caller, c -> c.query("SELECT 1 / 0").execute())).map("failed")
                .otherwise(e -> "failed as expected"));
            continue;
          }
          requests.add(onLoop(vertx, i, () -> small.inTenant(caller,
                  c -> c.query("SELECT tenant_id, title FROM conversations").execute()))
              .map(rows -> {
                List<String> seen = new ArrayList<>();
                for (Row r : rows) {
                  seen.add(r.getUUID("tenant_id") + " " + r.getString("title"));
                }
                return seen.equals(List.of(caller + " secret of " + caller)) ? "ok" : caller + " saw " + seen;
              }));
        }
        List<String> results = await(Future.all(requests).map(f -> f.<String>list()));
        assertThat(results).as("pool size " + poolSize).containsOnly("ok", "failed as expected")
            .filteredOn("ok"::equals).hasSize(900);
      } finally {
        await(small.close());
      }
    }
  }

  /** {@code request} started on event loop {@code i} (mod the loops' number), so per-loop pools lend and borrow. */
  private static <T> Future<T> onLoop(Vertx vertx, int i, java.util.function.Supplier<Future<T>> request) {
    List<io.netty.util.concurrent.EventExecutor> loops = new ArrayList<>();
    ((io.vertx.core.internal.VertxInternal) vertx).nettyEventLoopGroup().forEach(loops::add);
    io.vertx.core.Promise<T> result = io.vertx.core.Promise.promise();
    ((io.vertx.core.internal.VertxInternal) vertx).contextBuilder()
        .withEventLoop((io.netty.channel.EventLoop) loops.get(i % loops.size())).build()
        .runOnContext(v -> request.get().onComplete(result));
    return result.future();
  }

  // Tenant-scoped references (issue #14 item 6)
  @Test
  void aRowCannotReferToAnotherTenantsRow() throws Exception {
    // through the app: B's conversation and B's user, as tenant A
    assertThat(outcome(a, "INSERT INTO messages (tenant_id, conversation_id, role, content) SELECT '" + a
        + "', id, 'user', 'x' FROM (SELECT '" + conversationOf(b) + "'::uuid AS id) s")).isEqualTo("sqlstate 23503");
    assertThat(outcome(a, "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash, created_by) VALUES ('" + a
        + "', 'k', 'p', 'h2', '" + userOf(b) + "')")).isEqualTo("sqlstate 23503");
    // even as the owner, whom row-level security does not stop: the keys themselves include the tenant
    try (Connection c = testDb.ownerJdbc(); PreparedStatement st = c.prepareStatement(
        "INSERT INTO messages (tenant_id, conversation_id, role, content) VALUES (?, ?, 'user', 'x')")) {
      st.setObject(1, a);
      st.setObject(2, UUID.fromString(conversationOf(b)));
      assertThat(sqlState(st)).isEqualTo("23503");
    }
    // the same references within one tenant still work
    assertThat(outcome(a, "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash, created_by) VALUES ('" + a
        + "', 'k', 'p', 'h3', '" + userOf(a) + "')")).isEqualTo("rows 1");
  }

  /**
   * The PL/pgSQL same-tenant checks run only for a set reference (V50): a NULL one has nothing to check,
   * so the inserts of a turn (no picture, no pinned version) call no function. The test above shows that a
   * set reference is still checked.
   */
  @Test
  void tenantReferenceChecksRunOnlyForSetReferences() throws Exception {
    List<String> unconditional = new ArrayList<>();
    int checks = 0;
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
        "SELECT tgrelid::regclass || '.' || tgname, tgqual IS NULL FROM pg_trigger"
            + " WHERE tgfoid = 'same_tenant_reference'::regproc")) {
      while (rs.next()) {
        checks++;
        if (rs.getBoolean(2)) {
          unconditional.add(rs.getString(1));
        }
      }
    }
    assertThat(checks).isGreaterThanOrEqualTo(7);
    assertThat(unconditional).as("same-tenant triggers without WHEN (reference IS NOT NULL)").isEmpty();
  }

  private static String sqlState(PreparedStatement st) {
    try {
      st.executeUpdate();
      return "none";
    } catch (SQLException e) {
      return e.getSQLState();
    }
  }

  private static String conversationOf(UUID tenant) throws SQLException {
    try (Connection c = testDb.ownerJdbc()) {
      return ownerColumn(c, "SELECT id FROM conversations WHERE tenant_id = '" + tenant + "'").get(0);
    }
  }

  private static String userOf(UUID tenant) throws SQLException {
    try (Connection c = testDb.ownerJdbc()) {
      return ownerColumn(c, "SELECT id FROM users WHERE tenant_id = '" + tenant + "'").get(0);
    }
  }
}
