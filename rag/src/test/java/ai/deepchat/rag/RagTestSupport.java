package ai.deepchat.rag;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Blocking helpers for test threads (never event loops). */
final class RagTestSupport {

  private RagTestSupport() {
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(180, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  static Throwable failure(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(180, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
    throw new AssertionError("expected a failure");
  }

  static UUID tenant(Database db, String slug) {
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
                               Buffer content) {
    Upload upload = await(service.upload(tenant, kb, name, content));
    return await(upload.completion());
  }
}
