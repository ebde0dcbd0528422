package ai.deepchat.rag;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
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
  static final String BASE = "/v1/knowledge-bases";

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

  /**
   * The rag router as the gateway mounts it under {@link #BASE}, behind a stand-in for its
   * authentication that takes the caller's tenant from the X-Test-Tenant header; a client bound to it.
   */
  static WebClient serve(Vertx vertx, Rag rag) throws Exception {
    Router root = Router.router(vertx);
    root.route(BASE + "/*").handler(ctx -> {
      String tenant = ctx.request().getHeader("X-Test-Tenant");
      if (tenant != null) {
        ctx.put("tenantId", UUID.fromString(tenant));
      }
      ctx.next();
    });
    root.route(BASE + "/*").subRouter(rag.router());
    HttpServer server = await(vertx.createHttpServer().requestHandler(root).listen(0, "127.0.0.1"));
    return WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(server.actualPort()));
  }

  static HttpRequest<Buffer> as(UUID tenant, HttpRequest<Buffer> request) {
    return request.putHeader("X-Test-Tenant", tenant.toString());
  }

  /** Uploads and waits for the background ingestion to finish. */
  static DocumentStatus ingest(KnowledgeBaseService service, UUID tenant, UUID kb, String name,
                               Buffer content) throws Exception {
    Upload upload = await(service.upload(tenant, kb, name, content));
    return await(upload.completion(), INGESTION);
  }
}
