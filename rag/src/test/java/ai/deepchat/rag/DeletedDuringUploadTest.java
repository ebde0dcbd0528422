package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.BASE;
import static ai.deepchat.rag.RagTestSupport.as;
import static ai.deepchat.rag.RagTestSupport.resource;
import static ai.deepchat.rag.RagTestSupport.serve;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A knowledge base deleted while an upload into it is under way leaves no stored original behind, in
 * the worst order: the upload's document row is written, then the deletion (here by a second node on
 * the same data directory) removes the rows and the files, and only then is the original written. The
 * order is forced with real locks: the knowledge base's row held through the owner's connection, and
 * the uploading node's ingestion pool kept busy until the deletion is done.
 */
class DeletedDuringUploadTest {

  @Test
  void theOriginalOfAnUploadIntoADeletedKnowledgeBaseIsRemoved() throws Exception {
    Vertx uploading = Vertx.vertx();
    Vertx deleting = Vertx.vertx();
    CountDownLatch busy = new CountDownLatch(1);
    try {
      TestDatabase db = TestDatabase.fresh(uploading);
      Path dataDir = Files.createTempDirectory("rag-race");
      RagConfig config = RagConfig.defaults(dataDir);
      Rag first = Rag.create(uploading, db.database(), config);
      Rag second = Rag.create(deleting, db.database(), config);
      WebClient client = serve(uploading, first);
      UUID tenant = tenant(db.database(), "race");
      UUID kb = await(first.knowledgeBases().createKnowledgeBase(tenant, "doomed", "", null)).id();
      Path originals = dataDir.resolve("documents").resolve(tenant.toString()).resolve(kb.toString());

      Future<HttpResponse<Buffer>> upload;
      try (Connection owner = db.ownerJdbc()) {
        owner.setAutoCommit(false);
        try (PreparedStatement lock = owner.prepareStatement("SELECT 1 FROM knowledge_bases WHERE id = ? FOR UPDATE")) {
          lock.setObject(1, kb);
          lock.executeQuery().close();
        }
        upload = as(tenant, client.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", "guide.md")
            .sendBuffer(resource("server-guide.md"));
        until("the upload's document row waits for the lock", Duration.ofSeconds(30),
            () -> waitingInserts(db) > 0);
        // the uploading node's ingestion threads are busy: the original is written only after the deletion
        WorkerExecutor pool = uploading.createSharedWorkerExecutor("rag-ingest", config.ingestWorkers());
        for (int i = 0; i < config.ingestWorkers(); i++) {
          pool.executeBlocking(() -> {
            busy.await();
            return null;
          }, false);
        }
        owner.commit();
      }
      until("the document row is written", Duration.ofSeconds(30), () -> documents(db, kb) > 0);
      await(second.knowledgeBases().deleteKnowledgeBase(tenant, kb));
      assertThat(documents(db, kb)).isZero();
      busy.countDown();

      HttpResponse<Buffer> answered = await(upload);
      assertThat(originals).doesNotExist();
      assertThat(answered.statusCode()).as(answered.bodyAsString()).isEqualTo(404);
      assertThat(answered.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("not_found");
      await(first.close());
      await(second.close());
    } finally {
      busy.countDown();
      await(deleting.close());
      await(uploading.close());
    }
  }

  private static long waitingInserts(TestDatabase db) throws Exception {
    return count(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        + "AND query LIKE 'INSERT INTO documents%'", null);
  }

  private static long documents(TestDatabase db, UUID kb) throws Exception {
    return count(db, "SELECT count(*) FROM documents WHERE knowledge_base_id = ?", kb);
  }

  private static long count(TestDatabase db, String sql, UUID kb) throws Exception {
    try (Connection owner = db.ownerJdbc(); PreparedStatement q = owner.prepareStatement(sql)) {
      if (kb != null) {
        q.setObject(1, kb);
      }
      try (ResultSet rows = q.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }
}
