package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.security.TenantKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole chat path on one node as a user runs it: HTTP, API key, conversation rows in PostgreSQL,
 * the engine worker on the bundled tiny checkpoint (real tokenizer, template and native engine).
 */
class ChatOnRealEngineTest {

  @TempDir
  static Path dataDir;
  static Node node;
  static String apiKey;
  static UUID tenant;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "HTTP_PORT", "0",
        "HTTP_HOST", "127.0.0.1", "ADMIN_PASSWORD", "a-long-demo-password"), new String[0]));
    var db = node.platform().database();
    tenant = Node.await(db.global(c -> c.query("SELECT id FROM tenants WHERE slug = 'demo'").execute()
        .map(rows -> rows.iterator().next().getUUID(0))));
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    Node.await(db.inTenant(tenant, c -> c.preparedQuery(
        "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES ($1, 'test', $2, $3)")
        .execute(Tuple.of(tenant, key.prefix(), key.hash()))));
    apiKey = key.plaintext();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static HttpRequest.Builder completion(String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  private static JsonObject storedAnswer(String conversationId) {
    return Node.await(node.platform().database().inTenant(tenant, c -> c.preparedQuery(
            "SELECT status, content, completion_tokens FROM messages WHERE conversation_id = $1 AND role = 'assistant'")
        .execute(Tuple.of(UUID.fromString(conversationId)))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().toJson())));
  }

  @Test
  void answersAndStoresAWholeCompletionFromTheEngine() throws Exception {
    HttpResponse<String> r = HTTP.send(completion(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Write a short poem about lamps.\"}],\"max_tokens\":8}").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getString("model")).isEqualTo("tiny-test");
    JsonObject usage = body.getJsonObject("usage");
    assertThat(usage.getInteger("prompt_tokens")).isGreaterThan(10);
    assertThat(usage.getInteger("completion_tokens")).isBetween(1, 8);
    String content = body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    JsonObject stored = storedAnswer(body.getString("conversation_id"));
    assertThat(stored.getString("status")).isEqualTo("complete");
    assertThat(stored.getInteger("completion_tokens")).isEqualTo(usage.getInteger("completion_tokens"));
    assertThat(stored.getString("content")).isEqualTo(content);
  }

  @Test
  void streamsChunksEndingWithUsageAndDone() throws Exception {
    HttpResponse<String> r = HTTP.send(completion("{\"stream\":true,\"max_tokens\":6,\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"Tell me about the weather on Mars.\"}]}").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<JsonObject> chunks = data.subList(0, data.size() - 1).stream().map(JsonObject::new).toList();
    assertThat(chunks).allSatisfy(c -> assertThat(c.getString("object")).isEqualTo("chat.completion.chunk"));
    JsonObject last = chunks.get(chunks.size() - 1);
    assertThat(last.getJsonObject("usage").getInteger("completion_tokens")).isBetween(1, 6);
    StringBuilder text = new StringBuilder();
    for (JsonObject c : chunks) {
      if (!c.getJsonArray("choices").isEmpty()) {
        String piece = c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content");
        if (piece != null) {
          text.append(piece);
        }
      }
    }
    String conversation = chunks.stream().map(c -> c.getString("conversation_id")).filter(java.util.Objects::nonNull)
        .findFirst().orElseThrow();
    assertThat(storedAnswer(conversation).getString("content")).isEqualTo(text.toString());
  }

  @Test
  void eachStreamedEngineDeltaReportsTheLatencyThePlatformAdded() throws Exception {
    var registry = PlatformMetrics.get().registry();
    long deltasBefore = 0;
    long firstTokensBefore = 0;
    long contentChunks = 0;
    // sampled, not greedy, so the answer cannot come from the response cache (no engine clock there); a
    // sample of the random test model can end at once with no text, so up to three tries get one that has some
    for (int attempt = 0; attempt < 3 && contentChunks == 0; attempt++) {
      deltasBefore = timerCount(registry, "deepchat.platform.added.latency");
      firstTokensBefore = timerCount(registry, "deepchat.platform.added.ttft");
      HttpResponse<String> r = HTTP.send(completion("{\"stream\":true,\"max_tokens\":6,\"temperature\":0.8,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"Which lamp suits a reading corner?\"}]}").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      contentChunks = r.body().lines().filter(l -> l.startsWith("data: {"))
          .map(l -> new JsonObject(l.substring(6)).getJsonArray("choices"))
          .filter(choices -> !choices.isEmpty())
          .map(choices -> choices.getJsonObject(0).getJsonObject("delta"))
          .filter(d -> d.getString("content") != null && !d.getString("content").isEmpty()
              || d.getString("reasoning_content") != null)
          .count();
    }
    assertThat(contentChunks).isPositive();
    assertThat(timerCount(registry, "deepchat.platform.added.latency") - deltasBefore).isEqualTo(contentChunks);
    assertThat(timerCount(registry, "deepchat.platform.added.ttft") - firstTokensBefore).isEqualTo(1);
  }

  private static long timerCount(MeterRegistry registry, String name) {
    Timer t = registry.find(name).tag("channel", "api").timer();
    return t == null ? 0 : t.count();
  }

  @Test
  void aClientThatHangsUpStopsTheGenerationAndTheTurnIsStoredInterrupted() throws Exception {
    HttpResponse<InputStream> r = HTTP.send(completion("{\"stream\":true,\"max_tokens\":1500,\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"Count to ten thousand, please.\"}]}").build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    String conversation = null;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      int contentChunks = 0;
      while ((line = in.readLine()) != null && (contentChunks < 3 || conversation == null)) {
        if (line.startsWith("data: {")) {
          JsonObject chunk = new JsonObject(line.substring(6));
          if (conversation == null) {
            conversation = chunk.getString("conversation_id");
          }
          contentChunks++;
        }
      }
    } // closing the body aborts the connection mid-stream
    assertThat(conversation).isNotNull();
    String id = conversation;
    until("the aborted answer is stored as ended", Duration.ofSeconds(10), () -> {
      JsonObject answer = storedAnswer(id);
      return answer != null && !"streaming".equals(answer.getString("status"));
    });
    JsonObject stored = storedAnswer(id);
    assertThat(stored.getString("status")).isEqualTo("interrupted");
    assertThat(stored.getInteger("completion_tokens")).isLessThan(1500);
  }

  @Test
  void badRequestsGetOpenAiErrorsAndStoreNothing() throws Exception {
    long before = countMessages();
    for (String body : new ArrayList<>(List.of("{not json", "{\"messages\":[]}",
        "{\"model\":\"no-such-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))) {
      HttpResponse<String> r = HTTP.send(completion(body).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(body).isBetween(400, 404);
      assertThat(new JsonObject(r.body()).getJsonObject("error").getString("message")).isNotBlank();
    }
    assertThat(countMessages()).isEqualTo(before);
  }

  private static long countMessages() {
    return Node.await(node.platform().database().inTenant(tenant, c -> c.query("SELECT count(*) FROM messages")
        .execute().map(rows -> rows.iterator().next().getLong(0))));
  }

  /** n, logprobs, seed and /v1/completions (issue #17), on this class's node. */
  @Nested
  class Choices extends ChoicesOnRealEngine {
  }
}
