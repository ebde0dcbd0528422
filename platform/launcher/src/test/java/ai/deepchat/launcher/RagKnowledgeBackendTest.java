package ai.deepchat.launcher;

import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.failure;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console names no RAG type (admin-web's ModuleBoundaryTest): the RAG module's refusals reach its
 * knowledge pages as {@link BusFailure.Failed}, with the RAG error's failure and message, which is
 * how they tell an unknown document (404) from a bad file (400).
 */
class RagKnowledgeBackendTest {

  @Test
  void ragRefusalsReachTheConsoleAsBusFailures(@TempDir Path dir) throws Exception {
    try (Node node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dir.toString(), "HTTP_HOST", "127.0.0.1",
        "HTTP_PORT", "0", "SEED_DEMO", "false", "ROLES", "gateway"), new String[0]))) {
      var db = node.platform().database();
      UUID tenant = Node.await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ('kb-co', 'Kb')"
          + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
      Rag rag = Rag.create(node.vertx(), db, RagConfig.defaults(dir.resolve("rag")));
      try {
        RagKnowledgeBackend backend = new RagKnowledgeBackend(rag);
        UUID kb = await(rag.knowledgeBases().createKnowledgeBase(tenant, "Manuals", null, null)).id();

        Throwable unknown = failure(backend.retry(tenant, kb, UUID.randomUUID()));
        assertThat(unknown).isInstanceOf(BusFailure.Failed.class);
        assertThat(((BusFailure.Failed) unknown).failure()).isEqualTo(BusFailure.NOT_FOUND);
        Throwable otherTenant = failure(backend.deleteDocument(UUID.randomUUID(), kb, UUID.randomUUID()));
        assertThat(((BusFailure.Failed) otherTenant).failure()).isEqualTo(BusFailure.NOT_FOUND);

        Path empty = Files.createFile(dir.resolve("empty.md"));
        Throwable bad = failure(backend.upload(tenant, kb, "empty.md", empty));
        assertThat(bad).isInstanceOf(BusFailure.Failed.class);
        assertThat(((BusFailure.Failed) bad).failure()).isEqualTo(BusFailure.INVALID_REQUEST);
        assertThat(bad.getMessage()).as("the RAG module's message, shown by the upload form").isNotBlank();
      } finally {
        await(rag.close());
      }
    }
  }
}
