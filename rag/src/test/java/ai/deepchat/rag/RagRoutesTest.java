package ai.deepchat.rag;

import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.outbound.HostResolver;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.failure;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.resource;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP routes as the gateway will mount them, and the retrieval verticle on the event bus. */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RagRoutesTest {

  private static final String BASE = "/v1/knowledge-bases";

  private Vertx vertx;
  private TestDatabase db;
  private Path dataDir;
  private Rag rag;
  private HttpServer server;
  private HttpServer pages;
  private static final AtomicInteger PAGE_REQUESTS = new AtomicInteger();
  private WebClient client;
  private UUID tenantA;
  private UUID tenantB;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    dataDir = Files.createTempDirectory("rag-http");
    RagConfig config = RagConfig.defaults(dataDir).withMaxUploadBytes(64 * 1024);
    // a loopback web site for imports, allow-listed as an operator would list an intranet host: the policy's
    // only way to reach loopback, and the only address these tests fetch from
    pages = await(vertx.createHttpServer().requestHandler(RagRoutesTest::page).listen(0, "127.0.0.1"));
    rag = Rag.create(vertx, db.database(), config,
        new OutboundPolicy(List.of("127.0.0.1:" + pages.actualPort()), HostResolver.SYSTEM));
    tenantA = tenant(db.database(), "http-a");
    tenantB = tenant(db.database(), "http-b");
    Router root = Router.router(vertx);
    // stands in for the gateway's authentication, which puts the caller's tenant in the context
    root.route(BASE + "/*").handler(ctx -> {
      String tenant = ctx.request().getHeader("X-Test-Tenant");
      if (tenant != null) {
        ctx.put("tenantId", UUID.fromString(tenant));
      }
      ctx.next();
    });
    root.route(BASE + "/*").subRouter(rag.router());
    server = await(vertx.createHttpServer().requestHandler(root).listen(0));
    client = WebClient.create(vertx, new WebClientOptions().setDefaultPort(server.actualPort()));
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
    assertThat(created.bodyAsJsonObject().getString("embedding_model")).isEqualTo("bge-small-zh-v1.5-q");
    assertThat(created.bodyAsJsonObject().getBoolean("answers_chat")).isFalse();

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
        .sendJsonObject(new JsonObject().put("query", "忘记密码了怎么办").put("top_k", 3)));
    assertThat(search.statusCode()).isEqualTo(200);
    assertThat(search.bodyAsJsonObject().getJsonArray("data")).hasSize(3);
    JsonObject top = search.bodyAsJsonObject().getJsonArray("data").getJsonObject(0);
    assertThat(top.getString("section_path")).endsWith("重置密码");
    assertThat(top.getDouble("score")).isPositive();
    assertThat(top.getDouble("vector_score")).isPositive();
    assertThat(top.containsKey("lexical_score")).isTrue();
    assertThat(search.bodyAsJsonObject().getLong("knowledge_base_version")).isEqualTo(2);

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
    assertThat(dataDir.resolve("documents").resolve(tenantA.toString()).resolve(kb).resolve(guide)).doesNotExist();
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
    assertThat(code(tooLarge)).isEqualTo("file_too_large");
    HttpResponse<Buffer> empty = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .addQueryParam("filename", "empty.md").sendBuffer(Buffer.buffer()));
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(empty.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("empty");
    assertThat(code(empty)).isEqualTo("invalid_value");
    assertThat(code(noTenant)).isEqualTo("invalid_api_key");
    HttpResponse<Buffer> malformedId = await(as(tenantA, client.get(BASE + "/not-a-uuid/documents")).send());
    assertThat(malformedId.statusCode()).isEqualTo(404);
    assertThat(code(malformedId)).isEqualTo("not_found");
    HttpResponse<Buffer> badJson = await(as(tenantA, client.post(BASE + "/" + kb + "/search"))
        .sendBuffer(Buffer.buffer("{")));
    assertThat(badJson.statusCode()).isEqualTo(400);
    assertThat(code(badJson)).isEqualTo("invalid_json");
    HttpResponse<Buffer> taken = await(as(tenantA, client.post(BASE + "/"))
        .sendJsonObject(new JsonObject().put("name", "limits")));
    assertThat(taken.statusCode()).isEqualTo(409);
    assertThat(code(taken)).isEqualTo("name_taken");
    assertThat(taken.bodyAsJsonObject().getJsonObject("error").getString("type")).isEqualTo("conflict_error");
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

  @Test
  void knowledgeBasesAreRenamedPagedChosenForChatAndDeletedWithEverything() throws Exception {
    String kb = create(tenantA, "lifecycle");
    HttpResponse<Buffer> upload = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .addQueryParam("filename", "guide.md").sendBuffer(resource("server-guide.md")));
    assertThat(upload.statusCode()).isEqualTo(202);
    waitUntilReady(kb, 1);
    Path index = rag.indexFile(tenantA, UUID.fromString(kb), EmbeddingModels.BGE_SMALL_ZH);
    // the document is ready once PostgreSQL has it; the index file is written just after
    until("index written", Duration.ofSeconds(30), () -> Files.exists(index));

    // a document whose ingestion failed (here: marked so, as a crash mid-ingestion leaves it) is retried from
    // its stored original, without uploading it again; another tenant cannot trigger it
    String doc = upload.bodyAsJsonObject().getString("id");
    await(db.database().inTenant(tenantA, c -> c.preparedQuery("UPDATE documents SET status = 'failed', "
        + "error = 'worker lost', progress = 0 WHERE id = $1").execute(Tuple.of(UUID.fromString(doc)))));
    String resync = BASE + "/" + kb + "/documents/" + doc + "/resync";
    assertThat(await(as(tenantB, client.post(resync)).send()).statusCode()).isEqualTo(404);
    HttpResponse<Buffer> retried = await(as(tenantA, client.post(resync)).send());
    assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(202);
    assertThat(retried.bodyAsJsonObject().getString("status")).isEqualTo("pending");
    JsonObject again = waitUntilReady(kb, 1).getJsonObject(0);
    assertThat(again.getString("id")).isEqualTo(doc);
    assertThat(again.getInteger("chunk_count")).isPositive();
    assertThat(again.getString("error")).isNull();
    Path originals = dataDir.resolve("documents").resolve(tenantA.toString()).resolve(kb);
    assertThat(originals.resolve(doc)).exists();

    // renamed, described, and made the one that answers the tenant's chat
    HttpResponse<Buffer> renamed = await(as(tenantA, client.patch(BASE + "/" + kb)).sendJsonObject(new JsonObject()
        .put("name", "lifecycle-2").put("description", "ops guide").put("answers_chat", true)));
    assertThat(renamed.statusCode()).as(renamed.bodyAsString()).isEqualTo(200);
    assertThat(renamed.bodyAsJsonObject().getString("name")).isEqualTo("lifecycle-2");
    assertThat(renamed.bodyAsJsonObject().getBoolean("answers_chat")).isTrue();
    assertThat(defaultKnowledgeBase(tenantA)).isEqualTo(UUID.fromString(kb));
    HttpResponse<Buffer> got = await(as(tenantA, client.get(BASE + "/" + kb)).send());
    assertThat(got.bodyAsJsonObject().getString("description")).isEqualTo("ops guide");
    assertThat(got.bodyAsJsonObject().getString("object")).isEqualTo("knowledge_base");

    // another tenant can neither see, change, choose nor delete it
    for (HttpRequest<Buffer> foreign : List.of(client.get(BASE + "/" + kb), client.delete(BASE + "/" + kb),
        client.get(BASE + "/" + kb + "/documents"))) {
      HttpResponse<Buffer> refused = await(as(tenantB, foreign).send());
      assertThat(refused.statusCode()).isEqualTo(404);
      assertThat(code(refused)).isEqualTo("not_found");
    }
    assertThat(await(as(tenantB, client.patch(BASE + "/" + kb)).sendJsonObject(new JsonObject()
        .put("name", "stolen").put("answers_chat", true))).statusCode()).isEqualTo(404);
    assertThat(defaultKnowledgeBase(tenantB)).isNull();
    assertThat(await(as(tenantA, client.get(BASE + "/" + kb)).send()).bodyAsJsonObject().getString("name"))
        .isEqualTo("lifecycle-2");

    // deleted with its documents, chunks and index; the tenant's chat no longer points at it
    HttpResponse<Buffer> deleted = await(as(tenantA, client.delete(BASE + "/" + kb)).send());
    assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(204);
    assertThat(await(as(tenantA, client.get(BASE + "/" + kb)).send()).statusCode()).isEqualTo(404);
    assertThat(await(as(tenantA, client.delete(BASE + "/" + kb)).send()).statusCode()).isEqualTo(404);
    assertThat(count(tenantA, "SELECT count(*) FROM chunks WHERE knowledge_base_id = $1", UUID.fromString(kb))).isZero();
    assertThat(count(tenantA, "SELECT count(*) FROM documents WHERE knowledge_base_id = $1", UUID.fromString(kb))).isZero();
    assertThat(index).doesNotExist();
    assertThat(originals).doesNotExist();
    assertThat(defaultKnowledgeBase(tenantA)).isNull();
  }

  @Test
  void listsArePagedWithACursor() throws Exception {
    UUID tenant = tenant(db.database(), "http-paging");
    for (String name : List.of("p-a", "p-b", "p-c")) {
      create(tenant, name);
    }
    JsonObject first = await(as(tenant, client.get(BASE + "/")).addQueryParam("limit", "2").send()).bodyAsJsonObject();
    assertThat(first.getString("object")).isEqualTo("list");
    assertThat(first.getJsonArray("data")).extracting(o -> ((JsonObject) o).getString("name")).containsExactly("p-a", "p-b");
    assertThat(first.getBoolean("has_more")).isTrue();
    JsonObject second = await(as(tenant, client.get(BASE + "/")).addQueryParam("limit", "2")
        .addQueryParam("after", first.getString("last_id")).send()).bodyAsJsonObject();
    assertThat(second.getJsonArray("data")).extracting(o -> ((JsonObject) o).getString("name")).containsExactly("p-c");
    assertThat(second.getBoolean("has_more")).isFalse();

    String kb = second.getString("last_id");
    for (String file : List.of("c.md", "a.md", "b.md")) {
      assertThat(await(as(tenant, client.post(BASE + "/" + kb + "/documents")).addQueryParam("filename", file)
          .sendBuffer(Buffer.buffer("# " + file + "\n\nText of " + file + ".\n"))).statusCode()).isEqualTo(202);
    }
    JsonObject docs = await(as(tenant, client.get(BASE + "/" + kb + "/documents")).addQueryParam("limit", "2").send())
        .bodyAsJsonObject();
    assertThat(docs.getJsonArray("data")).extracting(o -> ((JsonObject) o).getString("source_name"))
        .containsExactly("a.md", "b.md");
    JsonObject rest = await(as(tenant, client.get(BASE + "/" + kb + "/documents"))
        .addQueryParam("after", docs.getString("last_id")).send()).bodyAsJsonObject();
    assertThat(rest.getJsonArray("data")).extracting(o -> ((JsonObject) o).getString("source_name"))
        .containsExactly("c.md");
    until("documents ready", RagTestSupport.INGESTION, () -> await(as(tenant, client.get(BASE + "/" + kb + "/documents"))
        .addQueryParam("status", "ready").send()).bodyAsJsonObject().getJsonArray("data").size() == 3);
    // a cursor of another tenant continues nothing
    HttpResponse<Buffer> foreignCursor = await(as(tenantA, client.get(BASE + "/")).addQueryParam("after", kb).send());
    assertThat(foreignCursor.statusCode()).isEqualTo(400);
    assertThat(param(foreignCursor)).isEqualTo("after");
  }

  @Test
  void unknownFieldsAndOutOfRangeValuesAre400NamingTheField() throws Exception {
    String kb = create(tenantA, "strict");
    String search = BASE + "/" + kb + "/search";
    JsonObject query = new JsonObject().put("query", "backup");
    for (Object[] c : new Object[][] {
        {search, query.copy().put("topK", 3), "topK"},
        {search, query.copy().put("top_k", 0), "top_k"},
        {search, query.copy().put("top_k", 1000), "top_k"},
        {search, query.copy().put("top_k", 2.5), "top_k"},
        {search, query.copy().put("top_k", "3"), "top_k"},
        {search, new JsonObject().put("top_k", 3), "query"},
        {search, new JsonObject().put("query", "x".repeat(2001)), "query"},
        {BASE + "/", new JsonObject().put("name", "n").put("embeddingModel", "bge-small-en-v1.5-q"), "embeddingModel"},
        {BASE + "/", new JsonObject().put("name", "n").put("embedding_model", "gpt"), "embedding_model"},
        {BASE + "/", new JsonObject().put("name", ""), "name"},
        {BASE + "/", new JsonObject().put("name", 7), "name"}}) {
      HttpResponse<Buffer> refused = await(as(tenantA, client.post((String) c[0])).sendJsonObject((JsonObject) c[1]));
      assertThat(refused.statusCode()).as(c[1].toString()).isEqualTo(400);
      assertThat(code(refused)).as(c[1].toString()).isEqualTo("invalid_value");
      assertThat(param(refused)).as(c[1].toString()).isEqualTo(c[2]);
    }
    for (Object[] c : new Object[][] {
        {new JsonObject().put("answers_chat", "yes"), "answers_chat"},
        {new JsonObject().put("embedding_model", "bge-small-en-v1.5-q"), "embedding_model"},
        {new JsonObject().put("version", 9), "version"}}) {
      HttpResponse<Buffer> refused = await(as(tenantA, client.patch(BASE + "/" + kb)).sendJsonObject((JsonObject) c[0]));
      assertThat(refused.statusCode()).as(c[0].toString()).isEqualTo(400);
      assertThat(param(refused)).as(c[0].toString()).isEqualTo(c[1]);
    }
    for (String[] c : new String[][] {{"limit", "0"}, {"limit", "101"}, {"limit", "ten"}, {"after", "nope"},
        {"page", "2"}}) {
      HttpResponse<Buffer> refused = await(as(tenantA, client.get(BASE + "/")).addQueryParam(c[0], c[1]).send());
      assertThat(refused.statusCode()).as(c[0] + "=" + c[1]).isEqualTo(400);
      assertThat(param(refused)).isEqualTo(c[0]);
    }
    HttpResponse<Buffer> status = await(as(tenantA, client.get(BASE + "/" + kb + "/documents"))
        .addQueryParam("status", "done").send());
    assertThat(param(status)).isEqualTo("status");
    HttpResponse<Buffer> latin1 = await(as(tenantA, client.post(BASE + "/")).putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(new byte[] {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xE9, '"', '}'})));
    assertThat(code(latin1)).isEqualTo("invalid_utf8");
    // nothing of the refused requests was stored
    assertThat(await(as(tenantA, client.get(BASE + "/" + kb)).send()).bodyAsJsonObject().getString("name"))
        .isEqualTo("strict");
    assertThat(count(tenantA, "SELECT count(*) FROM knowledge_bases WHERE name = $1", "n")).isZero();
  }

  @Test
  void rawUploadsAreStreamedToDiskAndStoppedAtTheLimit() throws Exception {
    String kb = create(tenantA, "streamed");
    Path uploads = dataDir.resolve("uploads");
    // chunked, so no Content-Length announces the size: the limit (64 KiB here) is enforced while reading
    HttpResponse<Buffer> tooLarge = await(as(tenantA, client.post(BASE + "/" + kb + "/documents"))
        .addQueryParam("filename", "big.md").sendStream(stream("# Big\n\n" + "word ".repeat(40_000))));
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(code(tooLarge)).isEqualTo("file_too_large");
    // the first half is on disk before the second is sent: the body is written as it arrives, not held in memory
    String text = "# Small\n\nStreamed text, " + "in two halves. ".repeat(200) + "\n";
    HttpClientRequest request = await(vertx.createHttpClient().request(HttpMethod.POST, server.actualPort(),
        "127.0.0.1", BASE + "/" + kb + "/documents?filename=small.md"));
    request.putHeader("X-Test-Tenant", tenantA.toString()).setChunked(true);
    Future<HttpClientResponse> answer = request.response();
    // asked for on the event loop as the response arrives, so no part of the body can pass unread
    Future<Buffer> answerBody = answer.compose(HttpClientResponse::body);
    await(request.write(text.substring(0, 1000)));
    until("the first half written to disk", Duration.ofSeconds(10), () -> {
      try (var files = Files.list(uploads)) {
        return files.anyMatch(f -> f.toFile().length() == 1000);
      }
    });
    await(request.end(text.substring(1000)));
    HttpClientResponse response = await(answer);
    JsonObject small = await(answerBody).toJsonObject();
    assertThat(response.statusCode()).as(small.encode()).isEqualTo(202);
    assertThat(small.getLong("size_bytes")).isEqualTo(text.length());
    JsonArray docs = waitUntilReady(kb, 1);
    assertThat(docs.getJsonObject(0).getString("source_name")).isEqualTo("small.md");
    // the received files are gone once answered; the kept original is the upload itself
    until("temporary upload files deleted", Duration.ofSeconds(10), () -> {
      try (var left = Files.list(uploads)) {
        return left.findAny().isEmpty();
      }
    });
    assertThat(Files.readString(dataDir.resolve("documents").resolve(tenantA.toString()).resolve(kb)
        .resolve(small.getString("id")))).isEqualTo(text);
  }

  private ReadStream<Buffer> stream(String text) throws Exception {
    Path file = Files.createTempFile(dataDir, "body", ".md");
    Files.writeString(file, text);
    return await(vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true)));
  }

  @Test
  void aWebPageIsImportedOnlyThroughTheOutboundPolicy() throws Exception {
    String kb = create(tenantA, "web");
    String site = "http://127.0.0.1:" + pages.actualPort();
    int before = PAGE_REQUESTS.get();
    // refused before any request: loopback not on the allow-list (by another port, name or spelling) and other
    // schemes; private and link-local ranges are refused by the same check (OutboundPolicyTest classifies them,
    // with no socket), and no test aims even a refused request at them
    for (String url : List.of("http://127.0.0.1:" + server.actualPort() + "/", "http://localhost:" + pages.actualPort()
        + "/guide/backup.html", "http://[::1]:" + pages.actualPort() + "/guide/backup.html",
        "http://0x7f000001:" + pages.actualPort() + "/guide/backup.html", "http://2130706433/", "file:///etc/passwd")) {
      HttpResponse<Buffer> refused = importPage(tenantA, kb, url);
      assertThat(refused.statusCode()).as(url + " " + refused.bodyAsString()).isEqualTo(400);
      assertThat(code(refused)).as(url).isEqualTo("url_refused");
      assertThat(param(refused)).isEqualTo("url");
    }
    // another tenant's knowledge base fetches nothing
    assertThat(importPage(tenantB, kb, site + "/guide/backup.html").statusCode()).isEqualTo(404);
    assertThat(PAGE_REQUESTS.get()).isEqualTo(before);

    HttpResponse<Buffer> imported = importPage(tenantA, kb, site + "/guide/backup.html");
    assertThat(imported.statusCode()).as(imported.bodyAsString()).isEqualTo(202);
    assertThat(imported.bodyAsJsonObject().getString("source_name")).isEqualTo("127.0.0.1_guide_backup.html");
    waitUntilReady(kb, 1);
    JsonObject hit = await(as(tenantA, client.post(BASE + "/" + kb + "/search")).sendJsonObject(new JsonObject()
        .put("query", "nightly snapshot retention"))).bodyAsJsonObject().getJsonArray("data").getJsonObject(0);
    assertThat(hit.getString("text")).contains("nightly snapshot");
    assertThat(hit.getString("text")).doesNotContain("Site navigation");
    // fetched again unchanged: nothing to re-embed, the document stays ready
    HttpResponse<Buffer> again = importPage(tenantA, kb, site + "/guide/backup.html");
    assertThat(again.bodyAsJsonObject().getString("status")).isEqualTo("ready");

    for (String[] c : new String[][] {{"/moved", "url_redirected", "400"}, {"/manual.pdf", "unsupported_file_type", "415"},
        {"/big.txt", "file_too_large", "413"}, {"/missing.html", "url_unreachable", "400"}}) {
      HttpResponse<Buffer> refused = importPage(tenantA, kb, site + c[0]);
      assertThat(refused.statusCode()).as(c[0] + " " + refused.bodyAsString()).isEqualTo(Integer.parseInt(c[2]));
      assertThat(code(refused)).as(c[0]).isEqualTo(c[1]);
    }
    assertThat(await(as(tenantA, client.get(BASE + "/" + kb + "/documents")).send()).bodyAsJsonObject()
        .getJsonArray("data")).hasSize(1);
  }

  private HttpResponse<Buffer> importPage(UUID tenant, String kb, String url) throws Exception {
    return await(as(tenant, client.post(BASE + "/" + kb + "/documents/web")).sendJsonObject(new JsonObject()
        .put("url", url)));
  }

  private static void page(HttpServerRequest request) {
    PAGE_REQUESTS.incrementAndGet();
    HttpServerResponse response = request.response();
    switch (request.path()) {
      case "/guide/backup.html" -> response.putHeader("Content-Type", "text/html; charset=utf-8")
          .end("<html><head><title>Backup guide</title></head><body><nav>Site navigation</nav><main><h1>Backup</h1>"
              + "<p>The server takes a nightly snapshot of the state file; the retention is fourteen days.</p>"
              + "</main></body></html>");
      case "/moved" -> response.setStatusCode(302).putHeader("Location", "http://127.0.0.2:1/").end();
      case "/manual.pdf" -> response.putHeader("Content-Type", "application/pdf").end("%PDF-1.7");
      case "/big.txt" -> response.setChunked(true).putHeader("Content-Type", "text/plain").end("word ".repeat(40_000));
      default -> response.setStatusCode(404).end();
    }
  }

  private String create(UUID tenant, String name) throws Exception {
    HttpResponse<Buffer> created = await(as(tenant, client.post(BASE + "/")).sendJsonObject(new JsonObject()
        .put("name", name)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return created.bodyAsJsonObject().getString("id");
  }

  private UUID defaultKnowledgeBase(UUID tenant) throws Exception {
    return await(db.database().inTenant(tenant, c -> c.query("SELECT default_knowledge_base_id FROM tenant_settings")
        .execute().map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0))));
  }

  private long count(UUID tenant, String sql, Object arg) throws Exception {
    return await(db.database().inTenant(tenant, c -> c.preparedQuery(sql).execute(Tuple.of(arg))
        .map(rows -> rows.iterator().next().getLong(0))));
  }

  private static String param(HttpResponse<Buffer> response) {
    return response.bodyAsJsonObject().getJsonObject("error").getString("param");
  }

  private JsonArray waitUntilReady(String kb, int count) throws Exception {
    Callable<JsonArray> docs = () -> await(as(tenantA, client.get(BASE + "/" + kb + "/documents")).send())
        .bodyAsJsonObject().getJsonArray("data");
    until(count + " documents ready", Duration.ofSeconds(30), () -> {
      JsonArray now = docs.call();
      return now.size() == count && now.stream().allMatch(d -> "ready".equals(((JsonObject) d).getString("status")));
    });
    return docs.call();
  }

  private static String code(HttpResponse<Buffer> response) {
    return response.bodyAsJsonObject().getJsonObject("error").getString("code");
  }

  private static HttpRequest<Buffer> as(UUID tenant, HttpRequest<Buffer> request) {
    return request.putHeader("X-Test-Tenant", tenant.toString());
  }
}
