package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.faiss.FaissIndex;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.BASE;
import static ai.deepchat.rag.RagTestSupport.INGESTION;
import static ai.deepchat.rag.RagTestSupport.as;
import static ai.deepchat.rag.RagTestSupport.resource;
import static ai.deepchat.rag.RagTestSupport.serve;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Re-embedding a knowledge base into another model over real HTTP and PostgreSQL: the old index serves
 * until the switch, the new model's vectors and index serve after it, and a failure, a cancel or a node
 * stopping mid-way never leaves the knowledge base unsearchable. A job is held mid-way by a row lock
 * on one of its chunks (taken through the owner's JDBC connection), so "during" is certain, not a race.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReembedTest {

  private static final String ZH = EmbeddingModels.BGE_SMALL_ZH;
  private static final String EN = EmbeddingModels.BGE_SMALL_EN;
  private static final String QUERY = "How do I back up the SQLite state file?";

  private Vertx vertx;
  private TestDatabase db;
  private Path dataDir;
  private RagConfig config;
  private Rag rag;
  private WebClient client;
  private UUID tenant;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    dataDir = Files.createTempDirectory("rag-reembed");
    RagConfig d = RagConfig.defaults(dataDir);
    // two chunks a batch: the server guide's few chunks take several batches to re-embed
    config = new RagConfig(dataDir, d.maxUploadBytes(), d.chunkTokens(), d.overlapTokens(), 2,
        d.indexFactory(), d.ingestWorkers(), d.parseTimeout());
    rag = Rag.create(vertx, db.database(), config);
    client = serve(vertx, rag);
    tenant = tenant(db.database(), "reembed");
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
    await(vertx.close());
  }

  @Test
  void searchesAnswerDuringTheReembeddingAndFromTheNewModelAfterTheSwitch() throws Exception {
    UUID kb = knowledgeBase(client, "switch");
    try (Connection owner = db.ownerJdbc()) {
      holdChunk(owner, kb);
      JsonObject started = post(client, kb, new JsonObject().put("embedding_model", EN));
      assertThat(started.getString("embedding_model")).isEqualTo(ZH);
      assertThat(started.getJsonObject("reembedding").getString("status")).isEqualTo("running");

      JsonObject held = waitForProgress(client, kb);
      assertThat(held.getString("embedding_model")).isEqualTo(ZH);
      JsonArray during = search(client, kb);
      assertThat(during).isNotEmpty();
      assertThat(during.getJsonObject(0).getString("section_path")).contains("Backup");
      assertThat(Files.exists(rag.indexFile(tenant, kb, ZH))).isTrue();
      assertThat(Files.exists(rag.indexFile(tenant, kb, EN))).isFalse();
      // a document uploaded meanwhile is embedded with whichever model it finds, and re-embedded when that
      // one is switched away before it is stored
      assertThat(await(as(tenant, client.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", "late.md")
          .sendBuffer(Buffer.buffer("# Late arrival\n\nThe ferry timetable changes in winter.\n"))).statusCode())
          .isEqualTo(202);
      owner.rollback();
    }
    JsonObject done = waitUntilNotRunning(client, kb);
    until("the late document is ready", INGESTION, () -> await(as(tenant, client.get(BASE + "/" + kb + "/documents"))
        .send()).bodyAsJsonObject().getJsonArray("data").stream()
        .allMatch(d -> "ready".equals(((JsonObject) d).getString("status"))));
    assertThat(done.getJsonObject("reembedding").getString("status")).isEqualTo("done");
    assertThat(done.getJsonObject("reembedding").getDouble("progress")).isEqualTo(1.0);
    assertThat(done.getString("embedding_model")).isEqualTo(EN);

    JsonArray after = search(client, kb);
    assertThat(after.getJsonObject(0).getString("section_path")).contains("Backup");
    assertThat(after.getJsonObject(0).getDouble("vector_score")).isPositive();
    // the stored vectors are the new model's, its index holds them all, and the old index is gone
    int chunks = 0;
    try (Connection owner = db.ownerJdbc();
         PreparedStatement stored = owner.prepareStatement("SELECT section_path, text, embedding, pending_embedding "
             + "FROM chunks WHERE knowledge_base_id = ?")) {
      stored.setObject(1, kb);
      try (ResultSet rows = stored.executeQuery()) {
        while (rows.next()) {
          float[] expected = EmbeddingModels.get(EN).embedPassages(java.util.List.of(
              ai.deepchat.rag.ingest.Chunk.embeddingText(rows.getString(1), rows.getString(2)))).get(0);
          float[] actual = Vectors.decode(Buffer.buffer(rows.getBytes(3)));
          assertThat(actual).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-4f));
          assertThat(rows.getBytes(4)).isNull();
          chunks++;
        }
      }
    }
    int stored = chunks;
    until("the new index holds every chunk", Duration.ofSeconds(30), () -> {
      try (FaissIndex index = FaissIndex.read(rag.indexFile(tenant, kb, EN))) {
        assertThat(index.dimension()).isEqualTo(EmbeddingModels.get(EN).dimension());
        return index.ntotal() == stored;
      }
    });
    until("old index removed", Duration.ofSeconds(10), () -> !Files.exists(rag.indexFile(tenant, kb, ZH)));
  }

  @Test
  void aManualSwitchWaitsReadySoTheNewModelIsEvaluatedFirst() throws Exception {
    UUID kb = knowledgeBase(client, "manual");
    upload(kb, "late.md", "# Late arrival\n\nThe ferry timetable changes in winter.\n");
    String setId = await(as(tenant, client.post(BASE + "/" + kb + "/evaluation-sets")).sendJsonObject(new JsonObject()
        .put("name", "backup").put("questions", new JsonArray().add(new JsonObject().put("question", QUERY)
            .put("document", "server-guide.md").put("section", "Backup and Restore")))))
        .bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> early = await(as(tenant, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs"))
        .sendJsonObject(new JsonObject().put("embedding_model", EN)));
    assertThat(early.statusCode()).as("no re-embedding is ready yet").isEqualTo(400);

    post(client, kb, new JsonObject().put("embedding_model", EN).put("switch", "manual"));
    JsonObject ready = waitUntilNotRunning(client, kb);
    assertThat(ready.getJsonObject("reembedding").getString("status")).isEqualTo("ready");
    assertThat(ready.getString("embedding_model")).isEqualTo(ZH);
    assertThat(search(client, kb).getJsonObject(0).getString("section_path")).contains("Backup");

    HttpResponse<Buffer> started = await(as(tenant, client.post(BASE + "/" + kb + "/evaluation-sets/" + setId + "/runs"))
        .sendJsonObject(new JsonObject().put("embedding_model", EN)));
    assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
    assertThat(started.bodyAsJsonObject().getString("embedding_model")).isEqualTo(EN);
    String runId = started.bodyAsJsonObject().getString("id");
    JsonObject[] run = new JsonObject[1];
    until("the evaluation of the new model", INGESTION, () -> {
      run[0] = await(as(tenant, client.get(BASE + "/" + kb + "/evaluation-runs/" + runId)).send()).bodyAsJsonObject();
      return !"running".equals(run[0].getString("status"));
    });
    assertThat(run[0].getString("status")).isEqualTo("done");
    assertThat(run[0].getDouble("recall_at_5")).isEqualTo(1.0);

    // a new version of a document, embedded with the old model while the switch happens (held on its row
    // until then), is embedded again with the new model instead of being stored with the old one's vectors
    Future<HttpResponse<Buffer>> newVersion;
    try (Connection owner = db.ownerJdbc()) {
      owner.setAutoCommit(false);
      try (PreparedStatement lock = owner.prepareStatement("SELECT 1 FROM documents WHERE knowledge_base_id = ? "
          + "AND source_name = 'late.md' FOR UPDATE")) {
        lock.setObject(1, kb);
        lock.executeQuery().close();
      }
      newVersion = as(tenant, client.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", "late.md")
          .sendBuffer(Buffer.buffer("# Late arrival\n\nThe ferry timetable changes in winter and in spring.\n"));
      until("the new version waits for its row", Duration.ofSeconds(30), this::waitingForDocumentRow);
      HttpResponse<Buffer> switched = await(as(tenant, client.post(BASE + "/" + kb + "/reembed/switch")).send());
      assertThat(switched.statusCode()).isEqualTo(202);
      JsonObject done = waitUntilNotRunning(client, kb);
      assertThat(done.getJsonObject("reembedding").getString("status")).isEqualTo("done");
      assertThat(done.getString("embedding_model")).isEqualTo(EN);
      owner.rollback();
    }
    assertThat(await(newVersion).statusCode()).isEqualTo(202);
    until("the new version is ready", INGESTION, () -> await(as(tenant, client.get(BASE + "/" + kb + "/documents"))
        .send()).bodyAsJsonObject().getJsonArray("data").stream()
        .allMatch(d -> "ready".equals(((JsonObject) d).getString("status"))));
    try (Connection owner = db.ownerJdbc();
         PreparedStatement vectors = owner.prepareStatement("SELECT c.text, c.embedding FROM chunks c "
             + "JOIN documents d ON d.id = c.document_id WHERE d.knowledge_base_id = ? AND d.source_name = 'late.md'")) {
      vectors.setObject(1, kb);
      try (ResultSet rows = vectors.executeQuery()) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getString(1)).contains("spring");
        assertThat(Vectors.decode(Buffer.buffer(rows.getBytes(2)))).hasSize(EmbeddingModels.get(EN).dimension());
      }
    }
    HttpResponse<Buffer> again = await(as(tenant, client.post(BASE + "/" + kb + "/reembed/switch")).send());
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("reembed_not_running");
  }

  @Test
  void aFailureMidwayKeepsTheOldModelAndItsIndex() throws Exception {
    UUID kb = knowledgeBase(client, "failure");
    long failing = middleChunk(kb);
    // a real refusal of the database for one chunk's new vector, as a full disk or a lost connection would be
    try (Connection owner = db.ownerJdbc(); Statement ddl = owner.createStatement()) {
      ddl.execute("CREATE FUNCTION refuse_vector() RETURNS trigger LANGUAGE plpgsql AS "
          + "$$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$");
      ddl.execute("CREATE TRIGGER refuse_vector BEFORE UPDATE OF pending_embedding ON chunks FOR EACH ROW "
          + "WHEN (NEW.pending_embedding IS NOT NULL AND NEW.id = " + failing + ") EXECUTE FUNCTION refuse_vector()");
    }
    try {
      post(client, kb, new JsonObject().put("embedding_model", EN));
      JsonObject failed = waitUntilNotRunning(client, kb);
      assertThat(failed.getJsonObject("reembedding").getString("status")).isEqualTo("failed");
      assertThat(failed.getJsonObject("reembedding").getString("error")).isNotBlank();
      assertThat(failed.getString("embedding_model")).isEqualTo(ZH);
    } finally {
      try (Connection owner = db.ownerJdbc(); Statement ddl = owner.createStatement()) {
        ddl.execute("DROP TRIGGER refuse_vector ON chunks");
        ddl.execute("DROP FUNCTION refuse_vector()");
      }
    }
    assertThat(pendingVectors(kb)).isZero();
    assertThat(search(client, kb).getJsonObject(0).getString("section_path")).contains("Backup");
    assertThat(Files.exists(rag.indexFile(tenant, kb, EN))).isFalse();

    // once the cause is gone, a new re-embedding goes through
    post(client, kb, new JsonObject().put("embedding_model", EN));
    assertThat(waitUntilNotRunning(client, kb).getString("embedding_model")).isEqualTo(EN);
  }

  @Test
  void secondStartIsRefusedAndCancelKeepsTheModel() throws Exception {
    UUID kb = knowledgeBase(client, "cancel");
    HttpResponse<Buffer> same = await(as(tenant, client.post(BASE + "/" + kb + "/reembed"))
        .sendJsonObject(new JsonObject().put("embedding_model", ZH)));
    assertThat(same.statusCode()).isEqualTo(400);
    HttpResponse<Buffer> unknown = await(as(tenant, client.post(BASE + "/" + kb + "/reembed"))
        .sendJsonObject(new JsonObject().put("embedding_model", "text-embedding-3-small")));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.bodyAsJsonObject().getJsonObject("error").getString("param")).isEqualTo("embedding_model");
    HttpResponse<Buffer> notRunning = await(as(tenant, client.delete(BASE + "/" + kb + "/reembed")).send());
    assertThat(notRunning.statusCode()).isEqualTo(409);
    assertThat(notRunning.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("reembed_not_running");
    UUID other = tenant(db.database(), "reembed-other");
    HttpResponse<Buffer> foreign = await(as(other, client.post(BASE + "/" + kb + "/reembed"))
        .sendJsonObject(new JsonObject().put("embedding_model", EN)));
    assertThat(foreign.statusCode()).isEqualTo(404);

    // held mid-way, a batch holds the knowledge base's row: requests that change the row wait for it
    Future<HttpResponse<Buffer>> twice;
    try (Connection owner = db.ownerJdbc()) {
      holdChunk(owner, kb);
      post(client, kb, new JsonObject().put("embedding_model", EN));
      waitForProgress(client, kb);
      twice = as(tenant, client.post(BASE + "/" + kb + "/reembed"))
          .sendJsonObject(new JsonObject().put("embedding_model", EN));
      Thread.sleep(300);
      owner.rollback();
    }
    assertThat(await(twice).statusCode()).isEqualTo(409);
    assertThat(await(twice).bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("reembed_running");
    assertThat(waitUntilNotRunning(client, kb).getString("embedding_model")).isEqualTo(EN);

    // back to the first model, cancelled mid-way: the knowledge base keeps the model it has
    Future<HttpResponse<Buffer>> cancel;
    try (Connection owner = db.ownerJdbc()) {
      holdChunk(owner, kb);
      post(client, kb, new JsonObject().put("embedding_model", ZH));
      waitForProgress(client, kb);
      cancel = as(tenant, client.delete(BASE + "/" + kb + "/reembed")).send();
      Thread.sleep(300);
      owner.rollback();
    }
    HttpResponse<Buffer> cancelled = await(cancel);
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getJsonObject("reembedding").getString("status")).isEqualTo("cancelled");
    assertThat(cancelled.bodyAsJsonObject().getString("embedding_model")).isEqualTo(EN);
    Thread.sleep(500); // the job's next step finds it cancelled and writes nothing
    JsonObject kept = get(client, kb);
    assertThat(kept.getString("embedding_model")).isEqualTo(EN);
    assertThat(kept.getJsonObject("reembedding").getString("status")).isEqualTo("cancelled");
    assertThat(pendingVectors(kb)).isZero();
    assertThat(search(client, kb).getJsonObject(0).getString("section_path")).contains("Backup");
    assertThat(Files.exists(rag.indexFile(tenant, kb, ZH))).isFalse();
  }

  @Test
  void aNodeStoppedMidwayLeavesTheOldModelServingAndTheNextNodeResumes() throws Exception {
    Vertx first = Vertx.vertx();
    Rag stopping = Rag.create(first, db.database(), config);
    WebClient firstClient = serve(first, stopping);
    UUID kb = knowledgeBase(firstClient, "restart");
    Future<Void> closing;
    try (Connection owner = db.ownerJdbc()) {
      holdChunk(owner, kb);
      post(firstClient, kb, new JsonObject().put("embedding_model", EN));
      waitForProgress(firstClient, kb);
      closing = stopping.close(); // waits for the held batch
      owner.rollback();
    }
    await(closing);
    await(first.close());
    assertThat(pendingVectors(kb)).isPositive();

    // the next node: the old model serves at once, and the job resumes where it was
    Vertx second = Vertx.vertx();
    Rag next = Rag.create(second, db.database(), config);
    try {
      WebClient nextClient = serve(second, next);
      JsonObject state = get(nextClient, kb);
      assertThat(search(nextClient, kb)).isNotEmpty();
      if ("running".equals(state.getJsonObject("reembedding").getString("status"))) {
        assertThat(state.getString("embedding_model")).isEqualTo(ZH);
      }
      JsonObject done = waitUntilNotRunning(nextClient, kb);
      assertThat(done.getJsonObject("reembedding").getString("status")).isEqualTo("done");
      assertThat(done.getString("embedding_model")).isEqualTo(EN);
      assertThat(search(nextClient, kb).getJsonObject(0).getString("section_path")).contains("Backup");
    } finally {
      await(next.close());
      await(second.close());
    }
  }

  /** A knowledge base of the zh model with one document of a few chunks, ready. */
  private UUID knowledgeBase(WebClient web, String name) throws Exception {
    HttpResponse<Buffer> created = await(as(tenant, web.post(BASE + "/"))
        .sendJsonObject(new JsonObject().put("name", name)));
    assertThat(created.statusCode()).isEqualTo(201);
    UUID kb = UUID.fromString(created.bodyAsJsonObject().getString("id"));
    assertThat(await(as(tenant, web.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", "server-guide.md")
        .sendBuffer(resource("server-guide.md"))).statusCode()).isEqualTo(202);
    until("documents ready", INGESTION, () -> {
      JsonArray docs = await(as(tenant, web.get(BASE + "/" + kb + "/documents")).send())
          .bodyAsJsonObject().getJsonArray("data");
      return docs.size() == 1 && docs.stream().allMatch(d -> "ready".equals(((JsonObject) d).getString("status")));
    });
    return kb;
  }

  private void upload(UUID kb, String name, String markdown) throws Exception {
    assertThat(await(as(tenant, client.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", name)
        .sendBuffer(Buffer.buffer(markdown))).statusCode()).isEqualTo(202);
    until(name + " ready", INGESTION, () -> await(as(tenant, client.get(BASE + "/" + kb + "/documents"))
        .send()).bodyAsJsonObject().getJsonArray("data").stream()
        .allMatch(d -> "ready".equals(((JsonObject) d).getString("status"))));
  }

  // another session waits for a lock on a documents row (asked on a connection of its own: within a
  // transaction, pg_stat_activity is a snapshot)
  private boolean waitingForDocumentRow() throws Exception {
    try (Connection owner = db.ownerJdbc(); Statement q = owner.createStatement();
         ResultSet rows = q.executeQuery("SELECT count(*) FROM pg_stat_activity "
        + "WHERE wait_event_type = 'Lock' AND query LIKE '%FROM documents WHERE knowledge_base_id = $1 AND source_name = $2 FOR UPDATE%'")) {
      rows.next();
      return rows.getLong(1) > 0;
    }
  }

  /** Locks the knowledge base's middle chunk: the job stops at its batch until the transaction ends. */
  private void holdChunk(Connection owner, UUID kb) throws Exception {
    owner.setAutoCommit(false);
    try (PreparedStatement lock = owner.prepareStatement("SELECT 1 FROM chunks WHERE id = ? FOR UPDATE")) {
      lock.setLong(1, middleChunk(kb));
      lock.executeQuery().close();
    }
  }

  private long middleChunk(UUID kb) throws Exception {
    try (Connection owner = db.ownerJdbc();
         PreparedStatement ids = owner.prepareStatement("SELECT id FROM chunks WHERE knowledge_base_id = ? "
             + "ORDER BY id OFFSET (SELECT count(*) / 2 FROM chunks WHERE knowledge_base_id = ?) LIMIT 1")) {
      ids.setObject(1, kb);
      ids.setObject(2, kb);
      try (ResultSet rows = ids.executeQuery()) {
        assertThat(rows.next()).isTrue();
        return rows.getLong(1);
      }
    }
  }

  private long pendingVectors(UUID kb) throws Exception {
    try (Connection owner = db.ownerJdbc();
         PreparedStatement count = owner.prepareStatement("SELECT count(*) FROM chunks "
             + "WHERE knowledge_base_id = ? AND pending_embedding IS NOT NULL")) {
      count.setObject(1, kb);
      try (ResultSet rows = count.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private JsonObject post(WebClient web, UUID kb, JsonObject body) throws Exception {
    HttpResponse<Buffer> started = await(as(tenant, web.post(BASE + "/" + kb + "/reembed")).sendJsonObject(body));
    assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
    return started.bodyAsJsonObject();
  }

  private JsonObject get(WebClient web, UUID kb) throws Exception {
    HttpResponse<Buffer> got = await(as(tenant, web.get(BASE + "/" + kb)).send());
    assertThat(got.statusCode()).isEqualTo(200);
    return got.bodyAsJsonObject();
  }

  private JsonArray search(WebClient web, UUID kb) throws Exception {
    HttpResponse<Buffer> found = await(as(tenant, web.post(BASE + "/" + kb + "/search"))
        .sendJsonObject(new JsonObject().put("query", QUERY).put("top_k", 3)));
    assertThat(found.statusCode()).as(found.bodyAsString()).isEqualTo(200);
    return found.bodyAsJsonObject().getJsonArray("data");
  }

  /** Waits until the held job has embedded the batches before the held chunk and stands still. */
  private JsonObject waitForProgress(WebClient web, UUID kb) throws Exception {
    JsonObject[] last = new JsonObject[1];
    until("re-embedding progress", INGESTION, () -> {
      last[0] = get(web, kb);
      JsonObject r = last[0].getJsonObject("reembedding");
      return r.getInteger("done") > 0;
    });
    JsonObject r = last[0].getJsonObject("reembedding");
    assertThat(r.getString("status")).isEqualTo("running");
    assertThat(r.getInteger("done")).isLessThan(r.getInteger("total"));
    return last[0];
  }

  private JsonObject waitUntilNotRunning(WebClient web, UUID kb) throws Exception {
    JsonObject[] last = new JsonObject[1];
    until("re-embedding finished", INGESTION, () -> {
      last[0] = get(web, kb);
      return !"running".equals(last[0].getJsonObject("reembedding").getString("status"));
    });
    return last[0];
  }
}
