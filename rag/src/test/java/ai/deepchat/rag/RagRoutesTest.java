package ai.deepchat.rag;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Callable;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.failure;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.BASE;
import static ai.deepchat.rag.RagTestSupport.as;
import static ai.deepchat.rag.RagTestSupport.resource;
import static ai.deepchat.rag.RagTestSupport.serve;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP routes as the gateway will mount them, and the retrieval verticle on the event bus. */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RagRoutesTest {

  private Vertx vertx;
  private Rag rag;
  private WebClient client;
  private UUID tenantA;
  private UUID tenantB;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    TestDatabase db = TestDatabase.fresh(vertx);
    Path dataDir = Files.createTempDirectory("rag-http");
    RagConfig config = RagConfig.defaults(dataDir).withMaxUploadBytes(64 * 1024);
    rag = Rag.create(vertx, db.database(), config);
    tenantA = tenant(db.database(), "http-a");
    tenantB = tenant(db.database(), "http-b");
    client = serve(vertx, rag);
    Codecs.registerAll(vertx);
    await(vertx.deployVerticle(rag.retrieverVerticle()));
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
    await(vertx.close());
  }

  @Test
  void uploadListSearchDeleteOverHttp() throws Exception {
    HttpResponse<Buffer> created = await(as(tenantA, client.post(BASE + "/"))
        .sendJsonObject(new JsonObject().put("name", "docs")));
    assertThat(created.statusCode()).isEqualTo(201);
    String kb = created.bodyAsJsonObject().getString("id");
    assertThat(created.bodyAsJsonObject().getString("embeddingModel")).isEqualTo("bge-small-zh-v1.5-q");

    HttpResponse<Buffer> raw = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .addQueryParam("filename", "faq-zh.md").sendBuffer(resource("faq-zh.md")));
    assertThat(raw.statusCode()).isEqualTo(202);
    assertThat(raw.bodyAsJsonObject().getString("status")).isEqualTo("pending");
    HttpResponse<Buffer> multipart = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .sendMultipartForm(MultipartForm.create()
            .binaryFileUpload("file", "server-guide.md", resource("server-guide.md"), "text/markdown")));
    assertThat(multipart.statusCode()).isEqualTo(202);
    String guide = multipart.bodyAsJsonObject().getString("id");

    JsonArray docs = waitUntilReady(kb, 2);
    assertThat(docs).allSatisfy(d -> assertThat(((JsonObject) d).getDouble("progress")).isEqualTo(1.0));

    HttpResponse<Buffer> search = await(as(tenantA, client.post(BASE + "/" + kb + "/search"))
        .sendJsonObject(new JsonObject().put("query", "忘记密码了怎么办").put("topK", 3)));
    assertThat(search.statusCode()).isEqualTo(200);
    JsonObject top = search.bodyAsJsonObject().getJsonArray("hits").getJsonObject(0);
    assertThat(top.getString("sectionPath")).endsWith("重置密码");
    assertThat(top.getDouble("fusedScore")).isPositive();
    assertThat(top.getDouble("vectorScore")).isPositive();
    assertThat(top.containsKey("lexicalScore")).isTrue();
    assertThat(search.bodyAsJsonObject().getLong("knowledgeBaseVersion")).isEqualTo(2);

    // another tenant sees nothing of it
    assertThat(await(as(tenantB, client.get(BASE + "/" + kb + "/documents")).send()).statusCode())
        .isEqualTo(404);
    assertThat(await(as(tenantB, client.post(BASE + "/" + kb + "/search"))
        .sendJsonObject(new JsonObject().put("query", "密码"))).statusCode()).isEqualTo(404);
    assertThat(await(as(tenantB, client.delete(BASE + "/" + kb + "/documents/" + guide)).send())
        .statusCode()).isEqualTo(404);

    assertThat(await(as(tenantA, client.delete(BASE + "/" + kb + "/documents/" + guide)).send())
        .statusCode()).isEqualTo(204);
    assertThat(await(as(tenantA, client.get(BASE + "/" + kb + "/documents/" + guide)).send())
        .statusCode()).isEqualTo(404);
  }

  @Test
  void refusalsAreClearJsonErrors() throws Exception {
    HttpResponse<Buffer> noTenant = await(client.get(BASE + "/").send());
    assertThat(noTenant.statusCode()).isEqualTo(401);
    String kb = await(as(tenantA, client.post(BASE + "/"))
        .sendJsonObject(new JsonObject().put("name", "limits"))).bodyAsJsonObject().getString("id");
    HttpResponse<Buffer> tooLarge = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .addQueryParam("filename", "big.md").sendBuffer(Buffer.buffer(new byte[200 * 1024])));
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(tooLarge.bodyAsJsonObject().getString("error")).isEqualTo("TOO_LARGE");
    HttpResponse<Buffer> empty = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .addQueryParam("filename", "empty.md").sendBuffer(Buffer.buffer()));
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(empty.bodyAsJsonObject().getString("message")).contains("empty");
    assertThat(await(as(tenantA, client.get(BASE + "/not-a-uuid/documents")).send()).statusCode())
        .isEqualTo(404);
    assertThat(await(as(tenantA, client.post(BASE + "/" + kb + "/search")).sendBuffer(Buffer.buffer("{")))
        .statusCode()).isEqualTo(400);
    assertThat(await(as(tenantA, client.post(BASE + "/"))
        .sendJsonObject(new JsonObject().put("name", "limits"))).statusCode()).isEqualTo(409);
  }

  @Test
  void retrievalOverTheEventBus(VertxTestContext test) throws Exception {
    UUID kb = await(rag.knowledgeBases().createKnowledgeBase(tenantA, "bus", "", null)).id();
    RagTestSupport.ingest(rag.knowledgeBases(), tenantA, kb, "guide.md", resource("server-guide.md"));
    var checkpoint = test.checkpoint(4);
    vertx.eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenantA.toString(), kb.toString(), "how to back up the state file", 2))
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.body().hits()).hasSize(2);
          assertThat(reply.body().hits().get(0).sectionPath()).endsWith("Backup and Restore");
          checkpoint.flag();
        })));
    vertx.eventBus().request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenantB.toString(), kb.toString(), "backup", 2))
        .onComplete(test.failing(e -> test.verify(() -> {
          assertThat(((ReplyException) e).failureCode()).isEqualTo(404);
          checkpoint.flag();
        })));
    vertx.eventBus().request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenantA.toString(), "nope", "backup", 2))
        .onComplete(test.failing(e -> test.verify(() -> {
          assertThat(((ReplyException) e).failureCode()).isEqualTo(404);
          checkpoint.flag();
        })));
    vertx.eventBus().request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenantA.toString(), kb.toString(), " ", 2))
        .onComplete(test.failing(e -> test.verify(() -> {
          assertThat(((ReplyException) e).failureCode()).isEqualTo(400);
          checkpoint.flag();
        })));
  }

  private JsonArray waitUntilReady(String kb, int count) throws Exception {
    Callable<JsonArray> docs = () -> await(as(tenantA, client.get(BASE + "/" + kb + "/documents")).send())
        .bodyAsJsonArray();
    until(count + " documents ready", Duration.ofSeconds(30), () -> {
      JsonArray now = docs.call();
      return now.size() == count && now.stream().allMatch(d -> "ready".equals(((JsonObject) d).getString("status")));
    });
    return docs.call();
  }

}
