package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static ai.deepchat.rag.RagTestSupport.await;
import static ai.deepchat.rag.RagTestSupport.ingest;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One tenant's slow upload must not stall another tenant's ingestion: with the default two ingestion
 * workers and per-tenant queues, tenant B's small document is ready while tenant A's is still being
 * parsed. A's document is a list item of 30 KB of backtick runs, which flexmark's inline parser takes
 * many seconds over (quadratic) yet chunks into a single chunk.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngestionFairnessTest {

  private Vertx vertx;
  private TestDatabase db;
  private Rag rag;
  private UUID tenantA;
  private UUID tenantB;
  private UUID kbA;
  private UUID kbB;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    Path dataDir = Files.createTempDirectory("rag-fair");
    rag = Rag.create(vertx, db.database(), RagConfig.defaults(dataDir));
    tenantA = tenant(db.database(), "tenant-a");
    tenantB = tenant(db.database(), "tenant-b");
    kbA = await(rag.knowledgeBases().createKnowledgeBase(tenantA, "a", "", null)).id();
    kbB = await(rag.knowledgeBases().createKnowledgeBase(tenantB, "b", "", null)).id();
    // load the embedding model before the race, so B's time is its own work
    ingest(rag.knowledgeBases(), tenantB, kbB, "warm-up.md", Buffer.buffer("# Warm up\n\nHello."));
  }

  @AfterAll
  void stop() {
    await(rag.close());
    await(vertx.close());
  }

  @Test
  void aSmallUploadOfAnotherTenantIsNotQueuedBehindASlowOne() {
    Buffer slow = Buffer.buffer("# Slow\n\n- " + "`a".repeat(15_000) + "\n");
    Upload a = await(rag.knowledgeBases().upload(tenantA, kbA, "slow.md", slow));
    long started = System.nanoTime();
    Future<DocumentStatus> aDone = a.completion();
    DocumentStatus b = ingest(rag.knowledgeBases(), tenantB, kbB, "small.md",
        Buffer.buffer("# Opening hours\n\nWe open at nine."));
    long bMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(b.status()).isEqualTo("ready");
    assertThat(aDone.isComplete()).as("B (%d ms) finished after A's slow document", bMillis).isFalse();
    assertThat(await(aDone).status()).isEqualTo("ready");
  }
}
