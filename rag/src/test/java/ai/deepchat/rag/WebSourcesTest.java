package ai.deepchat.rag;

import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.outbound.HostResolver;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.rag.web.CrawlSettings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.rag.RagTestSupport.tenant;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Site import over real HTTP and PostgreSQL: a small site served on loopback (allow-listed in the outbound
 * policy as an operator would list an intranet host; the only address these tests fetch from) is crawled
 * through the knowledge-base API, then changed and synced again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebSourcesTest {

  private static final String BASE = "/v1/knowledge-bases";

  private Vertx vertx;
  private TestDatabase db;
  private Rag rag;
  private HttpServer site;
  private WebClient client;
  private UUID tenantA;
  private UUID tenantB;
  /** Path to body ("404" answers Not Found); each test builds its own site under its own prefix. */
  private final Map<String, String> pages = new ConcurrentHashMap<>();
  private final Map<String, Integer> requests = new ConcurrentHashMap<>();
  private String origin;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    db = TestDatabase.fresh(vertx);
    site = await(vertx.createHttpServer().requestHandler(this::serve).listen(0, "127.0.0.1"));
    origin = "http://127.0.0.1:" + site.actualPort();
    rag = Rag.create(vertx, db.database(), RagConfig.defaults(Files.createTempDirectory("rag-web")),
        new OutboundPolicy(List.of("127.0.0.1:" + site.actualPort()), HostResolver.SYSTEM),
        CrawlSettings.defaults().withDelay(Duration.ofMillis(5)));
    tenantA = tenant(db.database(), "web-a");
    tenantB = tenant(db.database(), "web-b");
    Router root = Router.router(vertx);
    root.route(BASE + "/*").handler(ctx -> { // stands in for the gateway's authentication
      String tenant = ctx.request().getHeader("X-Test-Tenant");
      if (tenant != null) {
        ctx.put("tenantId", UUID.fromString(tenant));
      }
      ctx.next();
    });
    root.route(BASE + "/*").subRouter(rag.router());
    HttpServer api = await(vertx.createHttpServer().requestHandler(root).listen(0, "127.0.0.1"));
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(api.actualPort()));
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
    await(vertx.close());
  }

  private void serve(HttpServerRequest request) {
    String path = request.uri();
    requests.merge(path, 1, Integer::sum);
    if (path.equals("/robots.txt")) {
      request.response().putHeader("Content-Type", "text/plain")
          .end("User-agent: *\nDisallow: /site/private\nDisallow: /sched/private\n");
      return;
    }
    if (path.equals("/sitemap.xml")) {
      request.response().putHeader("Content-Type", "application/xml").end("<?xml version=\"1.0\"?>"
          + "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>" + origin
          + "/site/hidden</loc></url></urlset>");
      return;
    }
    if (path.startsWith("/site/moved")) {
      // a redirect to a port the operator did not list: refused before any connection is made
      request.response().setStatusCode(302).putHeader("Location", "http://127.0.0.1:1/internal").end();
      return;
    }
    if (path.equals("/site/old") || path.equals("/site/renamed")) { // moved within the site: followed
      request.response().setStatusCode(301).putHeader("Location", path.equals("/site/old") ? "b"
          : origin + "/site/new-name").end();
      return;
    }
    String body = pages.get(path);
    if (body == null || body.equals("404")) {
      request.response().setStatusCode(404).end();
      return;
    }
    request.response().putHeader("Content-Type", "text/html; charset=utf-8").end(body);
  }

  private static String html(String title, String text, String... links) {
    StringBuilder a = new StringBuilder();
    for (String link : links) {
      a.append("<a href=\"").append(link).append("\">").append(link).append("</a> ");
    }
    return "<html><head><title>" + title + "</title></head><body><main><h1>" + title + "</h1><p>" + text
        + "</p><nav>" + a + "</nav></main></body></html>";
  }

  @Test
  void crawlsASiteThenResyncsOnlyWhatChanged() throws Exception {
    pages.put("/site/", html("Home", "Welcome to the harbour office.", "/site/a", "b", "/site/private/secret",
        "/site/missing", "/site/moved", "/site/old", "/site/renamed", "https://elsewhere.example/x", "mailto:x@y.z"));
    pages.put("/site/new-name", html("Opening hours", "The office opens at nine."));
    pages.put("/site/a", html("Ferries", "The ferry to Lantau leaves every forty minutes.", "/site/a/deep1"));
    pages.put("/site/a/deep1", html("Deep", "Depth two: the pier is on the left.", "/site/a/deep2"));
    pages.put("/site/a/deep2", html("Too deep", "Depth three is past the limit."));
    pages.put("/site/b", html("Tickets", "Tickets cost twelve dollars at the kiosk."));
    pages.put("/site/hidden", html("Lost property", "Lost umbrellas are kept for thirty days."));
    pages.put("/site/private/secret", html("Secret", "robots.txt forbids this page."));
    String kb = knowledgeBase(tenantA, "site");

    HttpResponse<Buffer> created = await(as(tenantA, client.post(BASE + "/" + kb + "/web-sources"))
        .sendJsonObject(new JsonObject().put("url", origin + "/site/").put("whole_site", true).put("max_depth", 2)
            .put("max_pages", 50)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(202);
    String source = created.bodyAsJsonObject().getString("id");
    assertThat(created.bodyAsJsonObject().getString("status")).isEqualTo("syncing");
    JsonObject done = waitForSync(tenantA, kb, source);
    assertThat(done.getString("status")).as(done.encode()).isEqualTo("ready");

    Map<String, JsonObject> byUrl = pages(tenantA, kb, source);
    assertThat(byUrl.keySet()).containsExactlyInAnyOrder(origin + "/site/", origin + "/site/a",
        origin + "/site/a/deep1", origin + "/site/b", origin + "/site/hidden", origin + "/site/private/secret",
        origin + "/site/missing", origin + "/site/moved", origin + "/site/old", origin + "/site/new-name");
    for (String added : List.of("/site/", "/site/a", "/site/a/deep1", "/site/b", "/site/hidden", "/site/new-name")) {
      assertThat(byUrl.get(origin + added).getString("status")).as(added).isEqualTo("added");
      assertThat(byUrl.get(origin + added).getString("document_status")).as(added).isEqualTo("ready");
    }
    assertThat(byUrl.get(origin + "/site/private/secret").getString("status")).isEqualTo("skipped");
    assertThat(byUrl.get(origin + "/site/private/secret").getString("error")).contains("robots.txt");
    assertThat(requests).doesNotContainKey("/site/private/secret");
    assertThat(requests).doesNotContainKey("/site/a/deep2"); // below the depth limit
    assertThat(byUrl.get(origin + "/site/missing").getString("status")).isEqualTo("failed");
    assertThat(byUrl.get(origin + "/site/missing").getString("error")).contains("404");
    assertThat(byUrl.get(origin + "/site/moved").getString("status")).isEqualTo("failed");
    assertThat(byUrl.get(origin + "/site/moved").getString("error")).contains("redirect target refused");
    // a redirect to a page of the site already found is not imported twice
    assertThat(byUrl.get(origin + "/site/old").getString("status")).isEqualTo("skipped");
    assertThat(byUrl.get(origin + "/site/old").getString("error")).contains("redirects to " + origin + "/site/b");
    assertThat(done.getJsonObject("pages").getInteger("added")).isEqualTo(6);
    assertThat(documents(tenantA, kb)).hasSize(6);
    // the sitemap-only page is searchable
    HttpResponse<Buffer> search = await(as(tenantA, client.post(BASE + "/" + kb + "/search"))
        .sendJsonObject(new JsonObject().put("query", "lost umbrellas thirty days").put("top_k", 1)));
    assertThat(search.bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getString("text"))
        .contains("umbrellas");

    Map<String, Set<Long>> chunksBefore = chunkIds(tenantA);
    pages.put("/site/a", html("Ferries", "The ferry to Lantau now leaves every thirty minutes.", "/site/a/deep1"));
    pages.put("/site/b", "404");
    HttpResponse<Buffer> resync = await(as(tenantA, client.post(BASE + "/" + kb + "/web-sources/" + source + "/sync"))
        .send());
    assertThat(resync.statusCode()).as(resync.bodyAsString()).isEqualTo(202);
    JsonObject again = waitForSync(tenantA, kb, source);
    assertThat(again.getString("status")).isEqualTo("ready");
    JsonObject counts = again.getJsonObject("pages");
    assertThat(counts.getInteger("updated")).as(counts.encode()).isEqualTo(1);
    assertThat(counts.getInteger("removed")).as(counts.encode()).isEqualTo(1);
    assertThat(counts.getInteger("unchanged")).as(counts.encode()).isEqualTo(4);
    assertThat(counts.getInteger("added")).as(counts.encode()).isZero();

    Map<String, Set<Long>> chunksAfter = chunkIds(tenantA);
    String ferries = "127.0.0.1_" + site.actualPort() + "_site_a.html";
    String tickets = "127.0.0.1_" + site.actualPort() + "_site_b.html";
    assertThat(chunksAfter.get(ferries)).isNotEqualTo(chunksBefore.get(ferries)); // re-embedded
    assertThat(chunksAfter).doesNotContainKey(tickets); // removed with its chunks
    for (String name : chunksBefore.keySet()) {
      if (!name.equals(ferries) && !name.equals(tickets)) {
        assertThat(chunksAfter.get(name)).as(name + " untouched").isEqualTo(chunksBefore.get(name));
      }
    }
    assertThat(documents(tenantA, kb)).hasSize(5);

    // another tenant sees, syncs and deletes none of it
    for (HttpRequest<Buffer> foreign : List.of(client.get(BASE + "/" + kb + "/web-sources"),
        client.get(BASE + "/" + kb + "/web-sources/" + source),
        client.get(BASE + "/" + kb + "/web-sources/" + source + "/pages"),
        client.post(BASE + "/" + kb + "/web-sources/" + source + "/sync"),
        client.delete(BASE + "/" + kb + "/web-sources/" + source))) {
      HttpResponse<Buffer> refused = await(as(tenantB, foreign).send());
      assertThat(refused.statusCode()).as(foreign.method() + " " + foreign.uri()).isEqualTo(404);
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("not_found");
    }
    String kbOfB = knowledgeBase(tenantB, "b's");
    HttpResponse<Buffer> crossed = await(as(tenantB, client.get(BASE + "/" + kbOfB + "/web-sources/" + source)).send());
    assertThat(crossed.statusCode()).isEqualTo(404);

    // deleting the source deletes what it imported
    assertThat(await(as(tenantA, client.delete(BASE + "/" + kb + "/web-sources/" + source)).send()).statusCode())
        .isEqualTo(204);
    assertThat(documents(tenantA, kb)).isEmpty();
  }

  @Test
  void aRunningSyncIsNotStartedTwiceAndScheduledSyncsRunWhenDue() throws Exception {
    pages.put("/sched/", html("Schedule", "Timetables change in winter."));
    String kb = knowledgeBase(tenantA, "sched");
    JsonObject created = await(as(tenantA, client.post(BASE + "/" + kb + "/web-sources"))
        .sendJsonObject(new JsonObject().put("url", origin + "/sched/").put("sync_interval_minutes", 60)))
        .bodyAsJsonObject();
    String source = created.getString("id");
    assertThat(created.getBoolean("whole_site")).isFalse();
    JsonObject done = waitForSync(tenantA, kb, source);
    assertThat(done.getString("status")).isEqualTo("ready");
    assertThat(done.getString("next_sync_at")).isNotNull();
    HttpResponse<Buffer> twice = await(as(tenantA, client.post(BASE + "/" + kb + "/web-sources"))
        .sendJsonObject(new JsonObject().put("url", origin + "/sched/")));
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(twice.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("source_exists");

    // another node holds the lease: no second sync, here or by the timer
    exec(tenantA, "UPDATE web_sources SET lease_owner = 'other-node', lease_until = now() + interval '1 minute', "
        + "next_sync_at = now() - interval '1 second' WHERE id = $1", UUID.fromString(source));
    HttpResponse<Buffer> busy = await(as(tenantA, client.post(BASE + "/" + kb + "/web-sources/" + source + "/sync"))
        .send());
    assertThat(busy.statusCode()).isEqualTo(409);
    assertThat(busy.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("sync_running");
    assertThat(await(rag.webSources().syncDue())).isZero();

    // the lease expired (its node died): the due sync runs once
    int before = requests.getOrDefault("/sched/", 0);
    exec(tenantA, "UPDATE web_sources SET lease_until = now() - interval '1 second' WHERE id = $1",
        UUID.fromString(source));
    assertThat(await(rag.webSources().syncDue())).isEqualTo(1);
    JsonObject synced = waitForSync(tenantA, kb, source);
    assertThat(synced.getJsonObject("pages").getInteger("unchanged")).isEqualTo(1);
    assertThat(requests.get("/sched/")).isEqualTo(before + 1);
  }

  @Test
  void badRequestsAreRefusedNamingTheField() throws Exception {
    String kb = knowledgeBase(tenantA, "bad");
    Map<JsonObject, String> cases = new HashMap<>();
    cases.put(new JsonObject().put("url", origin + "/").put("depth", 2), null);
    cases.put(new JsonObject().put("url", origin + "/").put("max_pages", 5), "max_pages");
    cases.put(new JsonObject().put("url", origin + "/").put("whole_site", true).put("max_depth", 11), "max_depth");
    cases.put(new JsonObject().put("url", origin + "/").put("whole_site", true).put("max_pages", 0), "max_pages");
    cases.put(new JsonObject().put("url", origin + "/").put("sync_interval_minutes", 1), "sync_interval_minutes");
    cases.put(new JsonObject().put("whole_site", true), "url");
    // refused before any lookup or connection: an unlisted internal literal (loopback, as the network
    // rule wants: tests aim at nothing else), loopback by name, another scheme
    cases.put(new JsonObject().put("url", "http://127.0.0.2/latest/meta-data/"), "url");
    cases.put(new JsonObject().put("url", "http://localhost:" + site.actualPort() + "/"), "url");
    cases.put(new JsonObject().put("url", "file:///etc/passwd"), "url");
    for (Map.Entry<JsonObject, String> c : cases.entrySet()) {
      HttpResponse<Buffer> response = await(as(tenantA, client.post(BASE + "/" + kb + "/web-sources"))
          .sendJsonObject(c.getKey()));
      assertThat(response.statusCode()).as(c.getKey().encode()).isEqualTo(400);
      if (c.getValue() != null) {
        assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("param")).as(c.getKey().encode())
            .isEqualTo(c.getValue());
      }
    }
    HttpResponse<Buffer> list = await(as(tenantA, client.get(BASE + "/" + kb + "/web-sources")).send());
    assertThat(list.bodyAsJsonObject().getJsonArray("data")).isEmpty();
  }

  private JsonObject waitForSync(UUID tenant, String kb, String source) throws Exception {
    JsonObject[] last = new JsonObject[1];
    until("web source " + source + " synced", Duration.ofSeconds(90), () -> {
      last[0] = await(as(tenant, client.get(BASE + "/" + kb + "/web-sources/" + source)).send()).bodyAsJsonObject();
      return !"syncing".equals(last[0].getString("status"));
    });
    return last[0];
  }

  private Map<String, JsonObject> pages(UUID tenant, String kb, String source) throws Exception {
    JsonArray data = await(as(tenant, client.get(BASE + "/" + kb + "/web-sources/" + source + "/pages"))
        .addQueryParam("limit", "100").send()).bodyAsJsonObject().getJsonArray("data");
    return data.stream().map(JsonObject.class::cast).collect(Collectors.toMap(p -> p.getString("url"), p -> p));
  }

  private JsonArray documents(UUID tenant, String kb) throws Exception {
    return await(as(tenant, client.get(BASE + "/" + kb + "/documents")).addQueryParam("limit", "100").send())
        .bodyAsJsonObject().getJsonArray("data");
  }

  private Map<String, Set<Long>> chunkIds(UUID tenant) throws Exception {
    return await(db.database().inTenant(tenant, conn -> conn.query("SELECT d.source_name, c.id FROM chunks c "
        + "JOIN documents d ON d.id = c.document_id").execute().map(rows -> {
          Map<String, Set<Long>> ids = new HashMap<>();
          rows.forEach(r -> ids.computeIfAbsent(r.getString(0), k -> new java.util.HashSet<>()).add(r.getLong(1)));
          return ids;
        })));
  }

  private void exec(UUID tenant, String sql, UUID id) throws Exception {
    await(db.database().inTenant(tenant, conn -> conn.preparedQuery(sql).execute(Tuple.of(id))));
  }

  private String knowledgeBase(UUID tenant, String name) throws Exception {
    return await(as(tenant, client.post(BASE + "/")).sendJsonObject(new JsonObject().put("name", name)))
        .bodyAsJsonObject().getString("id");
  }

  private static HttpRequest<Buffer> as(UUID tenant, HttpRequest<Buffer> request) {
    return request.putHeader("X-Test-Tenant", tenant.toString());
  }
}
