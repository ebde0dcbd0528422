package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.rag.RagTestSupport.tenant;

/**
 * A RAG module over a fresh database and data directory, with two tenants and one empty knowledge base
 * each: what the integration tests of this module start from (one per test class; test threads only).
 */
final class RagFixture implements AutoCloseable {

  final Vertx vertx = Vertx.vertx();
  final TestDatabase db = TestDatabase.fresh(vertx);
  final Path dataDir;
  final UUID tenantA;
  final UUID tenantB;
  final UUID kbA;
  final UUID kbB;
  /** The module now open; {@link #restart} replaces it. */
  Rag rag;

  RagFixture(String dataDirPrefix, String baseOfA, String baseOfB) throws Exception {
    dataDir = Files.createTempDirectory(dataDirPrefix);
    rag = Rag.create(vertx, db.database(), RagConfig.defaults(dataDir));
    tenantA = tenant(db.database(), "tenant-a");
    tenantB = tenant(db.database(), "tenant-b");
    kbA = await(rag.knowledgeBases().createKnowledgeBase(tenantA, baseOfA, "", null)).id();
    kbB = await(rag.knowledgeBases().createKnowledgeBase(tenantB, baseOfB, "", null)).id();
  }

  /** Closes the module and opens a new one over the same directory and database, as a restarted node would. */
  Rag restart() throws Exception {
    await(rag.close());
    rag = Rag.create(vertx, db.database(), RagConfig.defaults(dataDir));
    return rag;
  }

  @Override
  public void close() throws Exception {
    await(rag.close());
    await(vertx.close());
  }
}
