package ai.deepchat.fuzz;

import ai.deepchat.bench.BenchTenant;
import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY scenario 13: the chat API's OpenAPI description (docs/openapi-chat.yaml), and the
 * knowledge-base API's (docs/openapi-knowledge.yaml), drive a seeded
 * generator of valid and mutated requests for every operation, sent over loopback to a real node
 * (embedded PostgreSQL, the bundled tiny model). Every response must keep to the description: no 5xx,
 * a documented status and media type, a body valid against the documented schema. The seed is printed
 * and can be set with {@code -Dfuzz.seed=N} to replay a failure; {@code -Dfuzz.perOperation=N} for a
 * longer run.
 */
class OpenApiFuzzTest {

  private static final String ORIGIN = "https://shop.example";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  static Path dataDir;
  static Node node;
  static HttpServer pages;
  static String pageUrl;
  static JsonObject tenant;
  static String base;
  static String visitorToken;
  static String conversationId;
  static String messageId;

  @BeforeAll
  static void start() throws Exception {
    // one loopback page for web imports, allow-listed as an operator would list an intranet host
    pages = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    pages.createContext("/", exchange -> {
      byte[] page = "<html><body><h1>Lamp</h1><p>The lamp is blue.</p></body></html>".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
      exchange.sendResponseHeaders(200, page.length);
      exchange.getResponseBody().write(page);
      exchange.close();
    });
    pages.start();
    pageUrl = "http://127.0.0.1:" + pages.getAddress().getPort() + "/lamp.html";
    node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "HTTP_PORT", "0",
        "HTTP_HOST", "127.0.0.1", "SEED_DEMO", "false", "INGEST_MAX_FILE_MB", "1",
        "OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:" + pages.getAddress().getPort()), new String[0]));
    tenant = BenchTenant.create(node, ORIGIN, 8, 0.7);
    base = "http://127.0.0.1:" + node.httpPort();
    JsonObject session = new JsonObject(send(HttpRequest.newBuilder(URI.create(base + "/widget/session"))
        .header("Origin", ORIGIN).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", tenant.getString("widgetKey")).encode())))
        .body());
    visitorToken = session.getString("visitorToken");
    // one answered turn, so that history and feedback have real ids to find
    HttpResponse<String> chat = send(HttpRequest.newBuilder(URI.create(base + "/widget/chat"))
        .header("Authorization", "Bearer " + visitorToken).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"hello there\",\"clientMessageId\":\"m1\"}")));
    assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
    JsonObject history = new JsonObject(send(HttpRequest.newBuilder(URI.create(base + "/widget/history"))
        .header("Authorization", "Bearer " + visitorToken).GET()).body());
    conversationId = history.getString("conversationId");
    JsonArray messages = history.getJsonArray("messages");
    messageId = messages.getJsonObject(messages.size() - 1).getString("id");
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
    if (pages != null) {
      pages.stop(0);
    }
  }

  @Test
  void everyOperationOfTheChatApiKeepsToItsDescription() throws Exception {
    long seed = Long.getLong("fuzz.seed", 20261206L);
    fuzz("docs/openapi-chat.yaml", seed, new RequestGenerator(seed,
        Map.of("apiKey", tenant.getString("apiKey"), "visitorToken", visitorToken),
        Map.of("key", List.of(tenant.getString("widgetKey")), "Origin", List.of(ORIGIN),
            "model", List.of("tiny-test"), "conversationId", List.of(conversationId),
            "messageId", List.of(messageId), "role", List.of("user", "user", "user"))));
  }

  /**
   * The knowledge-base API (docs/openapi-knowledge.yaml) against a knowledge base with one document. Its
   * deletions are described last, so the operations before them find the knowledge base and document.
   */
  @Test
  void everyOperationOfTheKnowledgeBaseApiKeepsToItsDescription() throws Exception {
    long seed = Long.getLong("fuzz.seed", 20261206L);
    String key = tenant.getString("apiKey");
    JsonObject kb = new JsonObject(send(HttpRequest.newBuilder(URI.create(base + "/v1/knowledge-bases"))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"Fuzzed manuals\"}"))).body());
    HttpResponse<String> doc = send(HttpRequest.newBuilder(URI.create(base + "/v1/knowledge-bases/"
            + kb.getString("id") + "/documents?filename=notes.md")).header("Authorization", "Bearer " + key)
        .POST(HttpRequest.BodyPublishers.ofString("# Notes\n\nThe lamp is blue.\n")));
    assertThat(doc.statusCode()).as(doc.body()).isEqualTo(202);
    HttpResponse<String> source = send(HttpRequest.newBuilder(URI.create(base + "/v1/knowledge-bases/"
            + kb.getString("id") + "/web-sources")).header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("url", pageUrl + "?source").encode())));
    assertThat(source.statusCode()).as(source.body()).isEqualTo(202);
    fuzz("docs/openapi-knowledge.yaml", seed, new RequestGenerator(seed, Map.of("apiKey", key),
        Map.of("kbId", List.of(kb.getString("id")), "docId", List.of(new JsonObject(doc.body()).getString("id")),
            "filename", List.of("notes.md", "faq.txt"), "query", List.of("lamp", "blue lamp"), "url", List.of(pageUrl),
            "sourceId", List.of(new JsonObject(source.body()).getString("id")))));
  }

  /**
   * Operations whose success needs a re-embedding in a given state (running, or ready to switch), which
   * random requests cannot arrange; ReembedTest drives their working paths.
   */
  private static final java.util.Set<String> NEEDS_A_JOB = java.util.Set.of(
      "POST /v1/knowledge-bases/{kbId}/reembed/switch", "DELETE /v1/knowledge-bases/{kbId}/reembed");

  private void fuzz(String file, long seed, RequestGenerator generator) throws Exception {
    int perOperation = Integer.getInteger("fuzz.perOperation", 40);
    OpenApiDescription description = OpenApiDescription.load(repositoryRoot().resolve(file));
    ResponseChecker checker = new ResponseChecker(description);
    List<String> failures = new ArrayList<>();
    Map<String, Integer> statuses = new TreeMap<>();
    int sent = 0;
    long started = System.nanoTime();
    for (OpenApiDescription.Operation op : description.operations()) {
      for (int i = 0; i < perOperation; i++) {
        FuzzRequest req = generator.next(op, i);
        HttpResponse<byte[]> resp;
        try {
          resp = HTTP.send(request(req), HttpResponse.BodyHandlers.ofByteArray());
        } catch (java.io.IOException e) {
          failures.add(req.describe() + "\n    -> no response: " + e);
          continue;
        }
        sent++;
        statuses.merge(op + " " + resp.statusCode(), 1, Integer::sum);
        for (String v : checker.violations(op, resp.statusCode(), resp.headers().firstValue("Content-Type").orElse(null),
            resp.body())) {
          failures.add(req.describe() + "\n    -> " + resp.statusCode() + ": " + v);
        }
      }
    }
    System.out.printf("fuzz %s: seed %d, %d requests in %.1f s; statuses %s%n", file, seed, sent,
        (System.nanoTime() - started) / 1e9, statuses);
    assertThat(failures).as("responses outside the description (seed %d)", seed).isEmpty();
    // the generator must reach the operations' working paths, not only their refusals
    for (OpenApiDescription.Operation op : description.operations()) {
      if (NEEDS_A_JOB.contains(op.toString())) {
        continue;
      }
      assertThat(statuses.keySet()).as("a 2xx from " + op).anyMatch(k -> k.startsWith(op + " 2"));
    }
  }

  private static HttpRequest request(FuzzRequest req) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + req.uri())).timeout(Duration.ofSeconds(60));
    req.headers().forEach(b::header);
    HttpRequest.BodyPublisher body = req.body() == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(req.body());
    return b.method(req.operation().method(), body).build();
  }

  private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static Path repositoryRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("docs/openapi-chat.yaml"))) {
      p = p.getParent();
    }
    assertThat(p).as("repository root with docs/openapi-chat.yaml").isNotNull();
    return p;
  }
}
