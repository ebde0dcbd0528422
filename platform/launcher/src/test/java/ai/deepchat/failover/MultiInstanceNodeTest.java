package ai.deepchat.failover;

import ai.deepchat.gateway.GatewayAdmission;
import ai.deepchat.launcher.Node;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.cluster.NodeDrain;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.time.Duration;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static ai.deepchat.failover.WidgetSockets.connect;
import static ai.deepchat.failover.WidgetSockets.message;
import static ai.deepchat.failover.WidgetSockets.next;
import static ai.deepchat.failover.WidgetSockets.session;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One node with three gateway and three conversation verticle instances (GATEWAY_INSTANCES,
 * PIPELINE_INSTANCES), real HTTP and PostgreSQL, DeepSeek's API emulated. Each request below comes on
 * a connection of its own; Vert.x hands new connections to the gateway instances in turn and the bus
 * hands turns to the conversation instances in turn, so consecutive requests meet different instances.
 * Which instances sent and took each turn is read off the event bus (their contexts).
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MultiInstanceNodeTest {

  private static final int INSTANCES = 3;
  private static final int MAX_STREAMS = 6;
  private static final String ORIGIN = "https://multi.example";
  private static final String PASSWORD = "correct horse battery";
  private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

  @TempDir
  static Path dir;
  static FakeDeepSeek deepseek;
  static Node node;
  static Vertx client;
  static String apiKey;
  static String widgetKey;
  static UUID tenant;
  /** The instances (their own contexts: handlers run on duplicates of them) that sent / took each turn. */
  static final Map<String, Context> gatewayOfTurn = new ConcurrentHashMap<>();
  static final Map<String, Context> pipelineOfConversation = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    deepseek = new FakeDeepSeek(6, 20);
    node = Node.start(ConfigLoader.load(Map.ofEntries(Map.entry("DATA_DIR", dir.toString()),
        Map.entry("HTTP_HOST", "127.0.0.1"), Map.entry("HTTP_PORT", "0"), Map.entry("SEED_DEMO", "false"),
        Map.entry("ROLES", "gateway,pipeline"), Map.entry("GATEWAY_INSTANCES", String.valueOf(INSTANCES)),
        Map.entry("PIPELINE_INSTANCES", String.valueOf(INSTANCES)),
        Map.entry("MAX_CONCURRENT_STREAMS", String.valueOf(MAX_STREAMS)),
        Map.entry("DEEPSEEK_API_KEY", "fake-key"), Map.entry("DEEPSEEK_BASE_URL", deepseek.baseUrl())), new String[0]));
    client = Vertx.vertx();
    node.vertx().eventBus().addOutboundInterceptor(delivery -> {
      Object body = delivery.message().body();
      // interceptors run on a duplicated context; only the context SPI unwraps it to the instance's own
      Context instance = ((ContextInternal) Vertx.currentContext()).unwrap();
      if (body instanceof TurnRequest r) {
        gatewayOfTurn.put(r.turnId(), instance);
      } else if (body instanceof TurnAck a) {
        pipelineOfConversation.put(a.conversationId(), instance);
      }
      delivery.next();
    });
    createTenant();
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    await(client.close());
    deepseek.close();
  }

  @Test
  @Order(1)
  void apiAndWidgetChatsRunConcurrentlyOnEveryInstance() throws Exception {
    int port = node.httpPort();
    gatewayOfTurn.clear();
    // sessions first, so the turns' connections below follow each other in the gateways' rotation
    List<String> visitors = new ArrayList<>();
    for (int i = 0; i < MAX_STREAMS / 2; i++) {
      visitors.add(session(port, widgetKey, ORIGIN));
    }
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      List<java.util.concurrent.Future<SseStreams.Seen>> api = new ArrayList<>();
      for (int i = 0; i < MAX_STREAMS / 2; i++) {
        String body = SseStreams.body("API question " + i, 6);
        api.add(pool.submit(() -> SseStreams.read(SseStreams.open(HttpClient.newHttpClient(), port, apiKey, null, body),
            0, null)));
      }
      List<BlockingQueue<JsonObject>> frames = new ArrayList<>();
      List<WebSocket> sockets = new ArrayList<>();
      for (int i = 0; i < visitors.size(); i++) {
        frames.add(new LinkedBlockingQueue<>());
        sockets.add(connect(client, port, visitors.get(i), ORIGIN, frames.get(i)));
        sockets.get(i).writeTextMessage(message("Widget question " + i));
      }
      Set<String> conversations = new HashSet<>();
      for (BlockingQueue<JsonObject> f : frames) {
        conversations.add(next(f, "start").getString("conversationId"));
        assertThat(next(f, "done")).isNotNull();
      }
      for (var answer : api) {
        SseStreams.Seen seen = answer.get(30, TimeUnit.SECONDS);
        assertThat(seen.completed()).as(seen.ending()).isTrue();
        assertThat(seen.text()).isEqualTo("word0 word1 word2 word3 word4 word5 ");
      }
      sockets.forEach(WebSocket::close);
      for (String conversation : conversations) {
        assertThat(answerStatus(conversation)).isEqualTo("complete");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(gatewayOfTurn).hasSize(MAX_STREAMS);
    assertThat(Set.copyOf(gatewayOfTurn.values())).as("gateway instances that took chats").hasSize(INSTANCES);
    assertThat(Set.copyOf(pipelineOfConversation.values())).as("conversation instances").hasSize(INSTANCES);
  }

  @Test
  @Order(2)
  void consoleSessionsAndFormTokensHoldOnEveryInstance() throws Exception {
    // a workspace of its own: the words saved below must not hold back the chat tenant's answers
    UUID desk = await(node.platform().database().global(c -> c.query("INSERT INTO tenants (slug, name)"
        + " VALUES ('desk', 'desk') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    String hash = PasswordHasher.hash(PASSWORD);
    await(node.platform().database().inTenant(desk, c -> c.preparedQuery("INSERT INTO users (tenant_id, email,"
        + " password_hash, role) VALUES ($1, 'editor@desk.test', $2, 'editor')").execute(Tuple.of(desk, hash))));
    Browser browser = new Browser();
    String loginToken = browser.csrf(browser.get("/console/login"));
    HttpResponse<String> login = browser.post("/console/login", Map.of("workspace", "desk",
        "email", "editor@desk.test", "password", PASSWORD, "next", "/console/", "_csrf", loginToken));
    assertThat(login.statusCode()).as(login.body()).isEqualTo(303);
    // twice round the gateways, each page and each form on a connection of its own
    Set<String> formTokens = new HashSet<>();
    for (int i = 0; i < 2 * INSTANCES; i++) {
      HttpResponse<String> page = browser.get("/console/words");
      assertThat(page.statusCode()).as("signed in on this instance too").isEqualTo(200);
      String token = browser.csrf(page);
      formTokens.add(token);
      HttpResponse<String> saved = browser.post("/console/words", Map.of("words", "multiword" + i, "_csrf", token));
      assertThat(saved.statusCode()).as(saved.body()).isEqualTo(302);
      assertThat(saved.headers().firstValue("Location")).contains("/console/words?done=saved");
    }
    assertThat(formTokens).as("one session, one form token, whichever instance renders the form").hasSize(1);
    long saved = await(node.platform().database().inTenant(desk, c -> c.query("SELECT count(*) FROM sensitive_words"
        + " WHERE word LIKE 'multiword%'").execute().map(rows -> rows.iterator().next().getLong(0))));
    assertThat(saved).isEqualTo(2L * INSTANCES);
  }

  @Test
  @Order(3)
  void theStreamLimitHoldsForTheWholeNode() throws Exception {
    GatewayAdmission admission = GatewayAdmission.find(node.vertx()).orElseThrow();
    until("streams of earlier tests ended", Duration.ofSeconds(10), () -> admission.activeStreams() == 0);
    deepseek.hold("HOLD-limit");
    List<HeldStream> held = new ArrayList<>();
    for (int i = 0; i < MAX_STREAMS; i++) {
      held.add(new HeldStream("HOLD-limit question " + i));
    }
    assertThat(admission.activeStreams()).isEqualTo(MAX_STREAMS);
    int calls = deepseek.requests.get();
    for (int i = 0; i < 2 * INSTANCES; i++) {
      HttpResponse<InputStream> refused = SseStreams.open(HttpClient.newHttpClient(), node.httpPort(), apiKey, null,
          SseStreams.body("One too many " + i, 6));
      String body = new String(refused.body().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(refused.statusCode()).as(body).isEqualTo(503);
      assertThat(new JsonObject(body).getJsonObject("error").getString("code")).isEqualTo("overloaded");
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    }
    BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    WebSocket socket = connect(client, node.httpPort(), session(node.httpPort(), widgetKey, ORIGIN), ORIGIN, frames);
    socket.writeTextMessage(message("A widget turn too many"));
    JsonObject refusal = frames.poll(10, TimeUnit.SECONDS);
    assertThat(refusal).isNotNull();
    assertThat(refusal.getString("code")).isEqualTo("overloaded");
    assertThat(deepseek.requests.get()).as("refused turns never reach the model").isEqualTo(calls);
    socket.close();

    deepseek.release("HOLD-limit");
    for (HeldStream stream : held) {
      assertThat(stream.finish()).isTrue();
    }
  }

  @Test
  @Order(4)
  void aClientThatLeavesStopsItsTurnOnWhicheverInstanceRunsIt() throws Exception {
    deepseek.hold("HOLD-cancel");
    int closedBefore = deepseek.closedEarly.get();
    List<HeldStream> held = new ArrayList<>();
    for (int i = 0; i < 2 * INSTANCES; i++) {
      held.add(new HeldStream("HOLD-cancel question " + i));
    }
    assertThat(held.stream().map(s -> pipelineOfConversation.get(s.conversationId)).collect(Collectors.toSet()))
        .as("conversation instances running the turns").hasSize(INSTANCES);
    for (HeldStream stream : held) {
      stream.abort();
    }
    for (HeldStream stream : held) {
      // well within the idle timeout (20 s), which would also end a turn the cancel missed
      until("turn " + stream.conversationId + " stored interrupted", Duration.ofSeconds(5),
          () -> "interrupted".equals(answerStatus(stream.conversationId)));
    }
    until("every generation stopped at the model", Duration.ofSeconds(10),
        () -> deepseek.closedEarly.get() - closedBefore == held.size());
    deepseek.release("HOLD-cancel");
  }

  /** Last: the node's drain stops the conversation instances from taking turns. */
  @Test
  @Order(5)
  void theDrainWaitsForTheTurnsOfEveryInstance() throws Exception {
    List<HeldStream> held = new ArrayList<>();
    for (int i = 0; i < 2 * INSTANCES; i++) {
      deepseek.hold("HOLD-drain-" + i + ".");
      held.add(new HeldStream("HOLD-drain-" + i + ". question"));
    }
    Map<Context, List<Integer>> byInstance = new LinkedHashMap<>();
    for (int i = 0; i < held.size(); i++) {
      byInstance.computeIfAbsent(pipelineOfConversation.get(held.get(i).conversationId), k -> new ArrayList<>()).add(i);
    }
    assertThat(byInstance).hasSize(INSTANCES);
    List<List<Integer>> instances = new ArrayList<>(byInstance.values());

    Future<Boolean> drained = NodeDrain.of(node.vertx()).drainAll(); // what the node does first on SIGTERM
    for (List<Integer> turns : instances.subList(0, INSTANCES - 1)) {
      turns.forEach(i -> deepseek.release("HOLD-drain-" + i + "."));
    }
    for (List<Integer> turns : instances.subList(0, INSTANCES - 1)) {
      for (int i : turns) {
        until("released turn " + i + " stored", Duration.ofSeconds(20),
            () -> "complete".equals(answerStatus(held.get(i).conversationId)));
      }
    }
    Thread.sleep(500); // a drain that overlooked the last instance would be over by now (it checks every 50 ms)
    assertThat(drained.isComplete()).as("drain over while an instance still runs a turn").isFalse();

    instances.get(INSTANCES - 1).forEach(i -> deepseek.release("HOLD-drain-" + i + "."));
    assertThat(await(drained)).as("every turn finished in time").isTrue();
    for (HeldStream stream : held) {
      assertThat(answerStatus(stream.conversationId)).isEqualTo("complete");
      assertThat(stream.finish()).isTrue();
    }
  }

  /** A streamed API answer on a connection of its own, read up to its first word. */
  private static final class HeldStream {
    final BufferedReader in;
    final String conversationId;

    HeldStream(String question) throws Exception {
      HttpResponse<InputStream> r = SseStreams.open(HttpClient.newHttpClient(), node.httpPort(), apiKey, null,
          SseStreams.body(question, 6));
      assertThat(r.statusCode()).isEqualTo(200);
      in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
      String conversation = null;
      String line;
      while ((line = in.readLine()) != null && !line.contains("\"content\":\"word0 \"")) {
        if (conversation == null && line.startsWith("data: {")) {
          conversation = new JsonObject(line.substring(6)).getString("conversation_id");
        }
      }
      assertThat(line).as("first word of " + question).isNotNull();
      conversationId = conversation;
    }

    /** Reads to the end: true when the answer ended with [DONE]. */
    boolean finish() throws Exception {
      try (in) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.equals("data: [DONE]")) {
            return true;
          }
        }
        return false;
      }
    }

    /** Hangs up mid-answer. */
    void abort() throws Exception {
      in.close();
    }
  }

  /** A browser whose every request takes a new connection, keeping its cookies; no automatic redirects. */
  private static final class Browser {
    private final CookieManager cookies = new CookieManager();

    private HttpClient connection() {
      return HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    HttpResponse<String> get(String path) throws Exception {
      return connection().send(HttpRequest.newBuilder(URI.create(base() + path)).build(),
          HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, Map<String, String> form) throws Exception {
      String body = form.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
          + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
      return connection().send(HttpRequest.newBuilder(URI.create(base() + path)).header("Origin", base())
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    String csrf(HttpResponse<String> page) {
      Matcher m = CSRF.matcher(page.body());
      assertThat(m.find()).as("a form in " + page.body()).isTrue();
      return m.group(1);
    }

    private static String base() {
      return "http://127.0.0.1:" + node.httpPort();
    }
  }

  /** The chat tenant: an API key, a widget, and room in its rate limits. */
  private static void createTenant() throws Exception {
    var db = node.platform().database();
    tenant = await(db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('multi', 'multi') RETURNING id")
        .execute().map(rows -> rows.iterator().next().getUUID(0))));
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    widgetKey = TenantKeys.newWidgetKey(tenant);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, requests_per_minute,"
            + " api_key_requests_per_minute, visitor_requests_per_minute) VALUES ($1, 100000, 100000, 100000)")
        .execute(Tuple.of(tenant))
        .compose(r -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash)"
            + " VALUES ($1, 'test', $2, $3)").execute(Tuple.of(tenant, key.prefix(), key.hash())))
        .compose(r -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins)"
            + " VALUES ($1, $2, $3)").execute(Tuple.of(tenant, widgetKey, new String[] {ORIGIN})))));
    apiKey = key.plaintext();
  }

  /** The stored status of the conversation's answer (streaming, complete, interrupted), null before it exists. */
  private static String answerStatus(String conversationId) throws Exception {
    return await(node.platform().database().inTenant(tenant, c -> c.preparedQuery("SELECT status FROM messages"
            + " WHERE conversation_id = $1 AND role = 'assistant'").execute(Tuple.of(UUID.fromString(conversationId)))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0))));
  }
}
