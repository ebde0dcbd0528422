package ai.deepchat.rag.eval;

import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Evaluation runs that a stopped node left "running" are failed by the next node to start, whatever their
 * tenant (the sweep goes through V32's SECURITY DEFINER function: row-level security hides other tenants'
 * runs from the application role), while runs that a live node is evaluating are left alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AbandonedEvalRunsTest {

  private Vertx vertx;
  private TestDatabase db;
  private Rag first;
  private UUID tenantA;
  private UUID tenantB;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    tenantA = tenant("a");
    tenantB = tenant("b");
    first = Rag.create(vertx, db.database(), RagConfig.defaults(Files.createTempDirectory("abandoned-a")));
  }

  @AfterAll
  void stop() throws Exception {
    await(first.close());
    await(vertx.close());
  }

  private UUID tenant(String slug) throws Exception {
    return await(db.database().global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) "
        + "RETURNING id").execute(Tuple.of(slug + "-" + UUID.randomUUID())).map(r -> r.iterator().next().getUUID(0))));
  }

  /** A knowledge base of the tenant with a one-question set; the set's id. */
  private UUID[] baseWithSet(UUID tenant) throws Exception {
    UUID kb = await(first.knowledgeBases().createKnowledgeBase(tenant, "kb-" + UUID.randomUUID(), "", null)).id();
    UUID set = await(first.evaluations().createSet(tenant, kb, "s",
        List.of(new EvalQuestion("Wake word?", "speaker-manual.md", "")))).id();
    return new UUID[] {kb, set};
  }

  /** A "running" row as a node leaves it: heartbeat {@code heartbeatAgo} ago (null: none) and started {@code startedAgo} ago. */
  private UUID running(UUID tenant, String startedAgo, String heartbeatAgo) throws Exception {
    UUID[] base = baseWithSet(tenant);
    try (Connection jdbc = db.ownerJdbc(); PreparedStatement insert = jdbc.prepareStatement("INSERT INTO eval_runs "
        + "(tenant_id, knowledge_base_id, eval_set_id, question_count, started_at, heartbeat_at) VALUES "
        + "(?, ?, ?, 1, now() - ?::interval, now() - ?::interval) RETURNING id")) {
      insert.setObject(1, tenant);
      insert.setObject(2, base[0]);
      insert.setObject(3, base[1]);
      insert.setString(4, startedAgo);
      insert.setString(5, heartbeatAgo);
      try (ResultSet rows = insert.executeQuery()) {
        rows.next();
        return (UUID) rows.getObject(1);
      }
    }
  }

  /** Status, error and whether finished_at is set, as the owner sees them (every tenant). */
  private List<String> row(UUID run) throws Exception {
    try (Connection jdbc = db.ownerJdbc(); PreparedStatement select = jdbc.prepareStatement(
        "SELECT status, error, finished_at IS NOT NULL FROM eval_runs WHERE id = ?")) {
      select.setObject(1, run);
      try (ResultSet rows = select.executeQuery()) {
        rows.next();
        List<String> out = new ArrayList<>();
        out.add(rows.getString(1));
        out.add(rows.getString(2));
        out.add(Boolean.toString(rows.getBoolean(3)));
        return out;
      }
    }
  }

  @Test
  void aNodeThatStartsFailsEveryTenantsAbandonedRunsAndLeavesLiveOnesAlone() throws Exception {
    UUID deadA = running(tenantA, "2 minutes", "1 minute");
    UUID deadB = running(tenantB, "3 minutes", "45 seconds");
    UUID oldVersionDead = running(tenantB, "1 hour", null);
    UUID live = running(tenantA, "2 minutes", "2 seconds");
    UUID oldVersionGoing = running(tenantA, "1 minute", null);

    Rag second = Rag.create(vertx, db.database(), RagConfig.defaults(Files.createTempDirectory("abandoned-b")));
    try {
      until("the abandoned runs are failed", Duration.ofSeconds(20),
          () -> "failed".equals(row(deadA).get(0)) && "failed".equals(row(deadB).get(0))
              && "failed".equals(row(oldVersionDead).get(0)));
      for (UUID dead : List.of(deadA, deadB, oldVersionDead)) {
        assertThat(row(dead)).containsExactly("failed", Evaluations.STALE_ERROR, "true");
      }
      // one UPDATE failed all of them: what it left running, it judged alive
      assertThat(row(live)).containsExactly("running", null, "false");
      assertThat(row(oldVersionGoing)).containsExactly("running", null, "false");
    } finally {
      await(second.close());
    }
  }

  @Test
  void theNodeEvaluatingARunKeepsItsHeartbeatFresh() throws Exception {
    UUID[] base = baseWithSet(tenantA);
    List<EvalQuestion> many = new ArrayList<>();
    for (int i = 0; i < 80; i++) {
      many.add(new EvalQuestion("How do I pair Bluetooth, take " + i + "?", "speaker-manual.md", ""));
    }
    UUID set = await(first.evaluations().createSet(tenantA, base[0], "many", many)).id();
    UUID run = await(first.evaluations().start(tenantA, base[0], set, null)).id();
    // as if the node had been silent for a minute: renewing brings the heartbeat back, so a sweep spares it
    try (Connection jdbc = db.ownerJdbc(); PreparedStatement age = jdbc.prepareStatement(
        "UPDATE eval_runs SET heartbeat_at = now() - interval '1 minute' WHERE id = ? AND status = 'running'")) {
      age.setObject(1, run);
      assertThat(age.executeUpdate()).as("the run is still going").isEqualTo(1);
    }
    await(first.evaluations().renewHeartbeats());
    await(first.evaluations().failAbandoned());
    assertThat(row(run).get(0)).isIn("running", "done");
    until("the run finishes", Duration.ofSeconds(60), () -> "done".equals(row(run).get(0)));
  }
}
