package ai.deepchat.rag.retrieve;

import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lexical search (V48's function) may find its chunks through the GIN index, planned for the
 * question's own terms, and returns only the calling tenant's chunks, nothing at all without a tenant.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LexicalSearchIndexTest {

  private static final int CHUNKS = 3000;

  private Vertx vertx;
  private TestDatabase db;
  private ChunkSearch search;
  private UUID tenantA;
  private UUID tenantB;
  private UUID baseA;
  private UUID baseB;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    search = new ChunkSearch(db.database());
    try (Connection c = db.ownerJdbc()) {
      tenantA = tenant(c, "lex-a");
      tenantB = tenant(c, "lex-b");
      baseA = knowledgeBase(c, tenantA);
      baseB = knowledgeBase(c, tenantB);
      // one chunk in 600 speaks of refunds: a selective term, as most of a question's terms are
      chunks(c, tenantA, baseA, CHUNKS);
      chunks(c, tenantB, baseB, 600);
      try (Statement s = c.createStatement()) {
        s.execute("ANALYZE chunks");
      }
    }
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void aSearchUsesTheFullTextIndexAndFindsEveryMatch() throws Exception {
    List<ChunkSearch.Scored> hits = await(search.lexical(tenantA, baseA, LexicalQuery.of("refund"), 20));
    assertThat(hits).hasSize(CHUNKS / 600);
    // A table this small is read whole anyway (sequential scans off here); what matters is that the
    // function's plan may take the index. The counters are this transaction's own: pooled connections
    // report theirs to the statistics only now and then.
    String scans = "SELECT pg_stat_get_xact_numscans('chunks_lexical'::regclass)";
    long[] counted = await(db.database().inTenant(tenantA, c -> c.query("SET LOCAL enable_seqscan = off").execute()
        .compose(x -> c.preparedQuery("SELECT count(*) FROM chunk_lexical_hits($1, to_tsquery('english', 'refund'), 20)")
            .execute(io.vertx.sqlclient.Tuple.of(baseA)))
        .compose(r -> c.query(scans).execute()
            .map(s -> new long[] {r.iterator().next().getLong(0), s.iterator().next().getLong(0)}))));
    assertThat(counted[0]).isEqualTo(CHUNKS / 600);
    assertThat(counted[1]).as("scans of the full-text index").isPositive();
  }

  @Test
  void anotherTenantsKnowledgeBaseGivesNothing() throws Exception {
    assertThat(await(search.lexical(tenantA, baseB, LexicalQuery.of("refund"), 20))).isEmpty();
    assertThat(await(search.lexical(tenantB, baseB, LexicalQuery.of("refund"), 20))).hasSize(1);
  }

  @Test
  void withoutATenantTheFunctionGivesNothing() throws Exception {
    long rows = await(db.database().global(c -> c
        .preparedQuery("SELECT count(*) FROM chunk_lexical_hits($1, to_tsquery('english', 'refund'), 20)")
        .execute(io.vertx.sqlclient.Tuple.of(baseA))
        .map(r -> r.iterator().next().getLong(0))));
    assertThat(rows).isZero();
  }

  private static UUID tenant(Connection c, String slug) throws Exception {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO tenants (slug, name) VALUES (?, ?) RETURNING id")) {
      s.setString(1, slug);
      s.setString(2, slug);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return (UUID) r.getObject(1);
      }
    }
  }

  private static UUID knowledgeBase(Connection c, UUID tenant) throws Exception {
    try (PreparedStatement s = c.prepareStatement(
        "INSERT INTO knowledge_bases (tenant_id, name) VALUES (?, 'help') RETURNING id")) {
      s.setObject(1, tenant);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return (UUID) r.getObject(1);
      }
    }
  }

  private static void chunks(Connection c, UUID tenant, UUID base, int count) throws Exception {
    try (PreparedStatement s = c.prepareStatement(
        "WITH d AS (INSERT INTO documents (tenant_id, knowledge_base_id, title, source_name, content_type, content_hash)"
            + " VALUES (?, ?, 'Help', 'help.md', 'text/markdown', 'h') RETURNING id, tenant_id, knowledge_base_id)"
            + " INSERT INTO chunks (tenant_id, knowledge_base_id, document_id, ordinal, text)"
            + " SELECT d.tenant_id, d.knowledge_base_id, d.id, i,"
            + "   CASE WHEN i % 600 = 0 THEN 'Ask for a refund within thirty days of delivery'"
            + "   ELSE 'Shipping option ' || i || ' covers parcels, pallets and letters to region ' || (i % 97) END"
            + " FROM d, generate_series(1, ?) AS i")) {
      s.setObject(1, tenant);
      s.setObject(2, base);
      s.setInt(3, count);
      s.executeUpdate();
    }
  }
}
