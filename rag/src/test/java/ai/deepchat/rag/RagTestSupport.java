package ai.deepchat.rag;

import ai.deepchat.platform.db.Database;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/** Blocking helpers for test threads (never event loops). */
final class RagTestSupport {

  /** A whole document's background ingestion (embedding on a loaded CI machine) takes longer than a query. */
  static final Duration INGESTION = Duration.ofSeconds(180);

  private RagTestSupport() {
  }

  static UUID tenant(Database db, String slug) throws Exception {
    return await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID(0))));
  }

  static Buffer resource(String name) {
    try (InputStream in = RagTestSupport.class.getResourceAsStream("/corpus/" + name)) {
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Uploads and waits for the background ingestion to finish. */
  static DocumentStatus ingest(KnowledgeBaseService service, UUID tenant, UUID kb, String name,
                               Buffer content) throws Exception {
    Upload upload = await(service.upload(tenant, kb, name, content));
    return await(upload.completion(), INGESTION);
  }
}
