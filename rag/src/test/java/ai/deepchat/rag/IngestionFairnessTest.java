package ai.deepchat.rag;

import ai.deepchat.platform.concurrent.WorkerPools;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.ingest;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One tenant's uploads must not stall another tenant's ingestion: with the default two ingestion
 * workers and per-tenant queues, tenant A's documents run one at a time on at most one worker, so
 * tenant B's small document starts at once and is ready while A's last document still waits its turn
 * (status pending). Without the per-tenant queue all of A's documents start together (FIFO on the
 * worker pool) and B's waits behind them. A's documents are legitimately large: 48 chunks each, three
 * embedding batches. Also: a document over its parse budget fails with the reason on its row, and
 * ingestion embeds on the node's embeddings pool (the one bound on model threads), not beside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngestionFairnessTest {

  private RagFixture f;

  @BeforeAll
  void start() throws Exception {
    f = new RagFixture("rag-fair", "a", "b");
    // load the embedding model before the race, so B's time is its own work
    ingest(f.rag.knowledgeBases(), f.tenantB, f.kbB, "warm-up.md", Buffer.buffer("# Warm up\n\nHello."));
  }

  @AfterAll
  void stop() throws Exception {
    f.close();
  }

  @Test
  void aSmallUploadOfAnotherTenantIsNotQueuedBehindALargeBacklog() throws Exception {
    List<Upload> backlog = new ArrayList<>();
    for (int doc = 0; doc < 3; doc++) {
      backlog.add(await(f.rag.knowledgeBases().upload(f.tenantA, f.kbA, "manual-" + doc + ".md", manual(doc))));
    }
    DocumentStatus b = ingest(f.rag.knowledgeBases(), f.tenantB, f.kbB, "small.md",
        Buffer.buffer("# Opening hours\n\nWe open at nine."));
    DocumentStatus lastOfA = await(f.rag.knowledgeBases().document(f.tenantA, f.kbA, backlog.get(2).accepted().id()));

    assertThat(b.status()).isEqualTo("ready");
    assertThat(lastOfA.status()).as("A's third document when B's was ready").isEqualTo("pending");
    for (Upload upload : backlog) {
      DocumentStatus done = await(upload.completion(), RagTestSupport.INGESTION);
      assertThat(done.status()).isEqualTo("ready");
      assertThat(done.chunkCount()).isEqualTo(48);
    }
  }

  @Test
  void ingestionEmbedsOnTheNodesEmbeddingsPool() throws Exception {
    WorkerPools pools = WorkerPools.of(f.vertx);
    WorkerExecutor embeddings = pools.open(WorkerPools.Kind.EMBEDDINGS);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(pools.size(WorkerPools.Kind.EMBEDDINGS));
    for (long i = held.getCount(); i > 0; i--) {
      embeddings.executeBlocking(() -> {
        held.countDown();
        return release.await(60, TimeUnit.SECONDS);
      }, false);
    }
    try {
      assertThat(held.await(30, TimeUnit.SECONDS)).as("every embeddings thread held").isTrue();
      Upload upload = await(f.rag.knowledgeBases().upload(f.tenantB, f.kbB, "held.md",
          Buffer.buffer("# Held\n\nThis text waits for an embeddings thread.")));
      until("parsed and waiting to embed", Duration.ofSeconds(30), () -> await(f.rag.knowledgeBases()
          .document(f.tenantB, f.kbB, upload.accepted().id())).progress() > 0);
      Thread.sleep(500); // a grace period, not a wait for a condition: the embedding must not happen in it
      assertThat(upload.completion().isComplete()).as("embedded while the embeddings pool was full").isFalse();
      release.countDown();
      assertThat(await(upload.completion(), RagTestSupport.INGESTION).status()).isEqualTo("ready");
    } finally {
      release.countDown();
      await(embeddings.close());
    }
  }

  @Test
  void aDocumentOverItsParseBudgetFailsWithTheReason() throws Exception {
    Rag hurried = Rag.create(f.vertx, f.db.database(),
        RagConfig.defaults(f.dataDir).withParseTimeout(Duration.ofMillis(1)));
    try {
      String big = "# Manual\n\n" + "Plain sentence number one. And number two follows it.\n\n".repeat(40_000);
      DocumentStatus status = ingest(hurried.knowledgeBases(), f.tenantA, f.kbA, "big.md", Buffer.buffer(big));
      assertThat(status.status()).isEqualTo("failed");
      assertThat(status.error()).startsWith("big.md took longer than 1 ms to parse; ");
    } finally {
      await(hurried.close());
    }
  }

  // 48 sections of one paragraph each, every one its own chunk; distinct per document
  private static Buffer manual(int doc) {
    StringBuilder text = new StringBuilder("# Manual " + doc + "\n\n");
    for (int section = 0; section < 48; section++) {
      text.append("## Part ").append(section).append("\n\n")
          .append(("Document " + doc + " part " + section + " explains one more step of the setup. ").repeat(6))
          .append("\n\n");
    }
    return Buffer.buffer(text.toString());
  }
}
