package ai.deepchat.rag.index;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A search that picked a knowledge base's index just before the index was closed (the knowledge base
 * switched embedding model, as at the end of a re-embedding, or was deleted) answers without vector
 * hits instead of failing the visitor's request (seen once in ReembedTest on a loaded machine).
 */
class VectorStoreClosedIndexTest {

  private static final int DIM = 8;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  @Test
  void aSearchWhoseIndexIsClosedUnderItHasNoVectorHitsInsteadOfFailing(@TempDir Path dir) throws Exception {
    WorkerExecutor worker = vertx.createSharedWorkerExecutor("vector-store-test", 1);
    long[] ids = {1, 2, 3, 4};
    float[] vectors = new float[ids.length * DIM];
    for (int i = 0; i < ids.length; i++) {
      vectors[i * DIM + i] = 1f;
    }
    VectorSource source = new VectorSource() {
      @Override
      public Future<Long> count(UUID tenantId, UUID knowledgeBaseId, String model) {
        return Future.succeededFuture((long) ids.length);
      }

      @Override
      public Future<Snapshot> snapshot(UUID tenantId, UUID knowledgeBaseId, String model, int dimension) {
        return Future.succeededFuture(new Snapshot(ids, vectors));
      }
    };
    VectorStore store = new VectorStore(dir, "Flat", worker, source);
    UUID tenant = UUID.randomUUID();
    UUID kb = UUID.randomUUID();
    float[] query = new float[DIM];
    query[0] = 1f;
    assertThat(await(store.search(tenant, kb, "m", DIM, query, 3))).hasSize(3);

    // the single worker thread is held, so the next search's FAISS call waits while its index closes
    CountDownLatch hold = new CountDownLatch(1);
    worker.executeBlocking(() -> {
      hold.await();
      return null;
    }, false);
    Future<List<VectorStore.Hit>> searching = store.search(tenant, kb, "m", DIM, query, 3);
    store.close();
    hold.countDown();
    assertThat(await(searching)).as("no vector hits, no failure").isEmpty();
  }
}
