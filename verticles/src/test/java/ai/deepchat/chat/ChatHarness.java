package ai.deepchat.chat;

import ai.deepchat.canary.CanaryServices;
import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.EmbeddingsApiModule;
import ai.deepchat.export.ConversationExport;
import ai.deepchat.export.ExportApiModule;
import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.gpu.worker.EngineWorkerVerticle;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.security.TenantKeys;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.embed.EmbeddingModels;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The chat path as deployed: real PostgreSQL, the gateway with the chat modules on a random port, the
 * conversation and intent verticles, and an emulated DeepSeek API as the remote backend.
 */
final class ChatHarness {

  record Tenant(UUID id, String apiKey, String widgetKey, String origin) {
  }

  /**
   * The loopback address the harness's operator allow-lists (OUTBOUND_ALLOWED_HOSTS): emulated tenant
   * services (order APIs, model servers) listen here; anything on 127.0.0.1 but the emulated DeepSeek
   * API stays refused, as internal addresses are in production.
   */
  static final String ALLOWED_LOOPBACK = "127.0.0.9";

  final Vertx vertx;
  final TestDatabase testDb;
  final Database db;
  final FakeOpenAi remote = new FakeOpenAi();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  Platform platform;
  PolicyServices policy;
  /** The conversation export behind {@code /v1/conversations/export} (its rows-read probe). */
  ConversationExport export;
  /** Rollout routing, when started with it. */
  CanaryServices canary;
  /** One gateway instance's modules, as deployed (tests mount them on a router of their own to list routes). */
  Supplier<List<HttpModule>> modules;
  int port;

  private final String nodeId;

  ChatHarness(Vertx vertx) {
    this.vertx = vertx;
    this.testDb = TestDatabase.fresh(vertx);
    this.db = testDb.database();
    this.nodeId = "test-node";
  }

  /** A second node on {@code vertx}, sharing {@code first}'s database (a cluster whose nodes meet only there). */
  ChatHarness(Vertx vertx, ChatHarness first, String nodeId) {
    this.vertx = vertx;
    this.testDb = first.testDb;
    this.db = testDb.pool(vertx, 4);
    this.nodeId = nodeId;
  }

  ChatHarness start() throws Exception {
    return start(true);
  }

  /** {@code remoteConfigured}: DeepSeek's (emulated) API is the default model; else the bundled test model. */
  ChatHarness start(boolean remoteConfigured) throws Exception {
    return start(remoteConfigured, Map.of(), false);
  }

  /** DeepSeek's (emulated) API as the default model, with {@code extraEnv} (e.g. the edge's limits, timeouts). */
  ChatHarness start(Map<String, String> extraEnv) throws Exception {
    return start(true, extraEnv, false);
  }

  /** {@code remoteConfigured} as {@link #start(boolean)}, with {@code extraEnv}. */
  ChatHarness start(boolean remoteConfigured, Map<String, String> extraEnv) throws Exception {
    return start(remoteConfigured, extraEnv, false);
  }

  /** With rollout routing deployed as the launcher deploys it; {@code extraEnv} e.g. guard settings. */
  ChatHarness startWithCanary(Map<String, String> extraEnv) throws Exception {
    return start(true, extraEnv, true);
  }

  private ChatHarness start(boolean remoteConfigured, Map<String, String> extraEnv, boolean withCanary)
      throws Exception {
    int remotePort = remote.start(vertx);
    Path dataDir = Files.createTempDirectory("chat-it");
    Map<String, String> env = new HashMap<>();
    env.put("DATA_DIR", dataDir.toString());
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("HTTP_PORT", "0");
    if (remoteConfigured) {
      env.put("DEEPSEEK_API_KEY", "sk-test");
    }
    env.put("DEEPSEEK_BASE_URL", "http://127.0.0.1:" + remotePort + "/v1");
    env.put("DEEPSEEK_MODEL", "deepseek-chat");
    env.put("CHAT_MAX_BODY_BYTES", "65536");
    env.put("CHAT_REQUEST_TIMEOUT_MS", "2000");
    env.put("CHAT_IDLE_TIMEOUT_MS", "3000");
    env.put("CHAT_RETRIEVAL_TIMEOUT_MS", "300");
    env.put("OUTBOUND_ALLOWED_HOSTS", ALLOWED_LOOPBACK);
    env.putAll(extraEnv);
    PlatformConfig config = ConfigLoader.load(env, new String[0]);
    platform = new Platform(config, db, nodeId);
    Codecs.registerAll(vertx);
    // deployed exactly as the launcher does it (real tokenizer included)
    policy = PolicyServices.create(vertx, platform);
    Embedder bge = EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH);
    if (withCanary) {
      canary = await(CanaryServices.create(vertx, platform, policy.audit(), bge, Clock.systemUTC()));
    }
    // several gateway and conversation instances (GATEWAY_INSTANCES, PIPELINE_INSTANCES defaults), one
    // set of modules each, as the launcher deploys them
    Supplier<List<HttpModule>> chat = ChatFeature.httpModules(vertx, platform, policy, canary);
    export = new ConversationExport(db, policy.audit());
    modules = () -> {
      List<HttpModule> list = new ArrayList<>();
      if (canary != null) {
        list.add(canary.httpModule(platform, policy.limits()));
      }
      list.addAll(chat.get());
      list.add(new EmbeddingsApiModule(platform, policy.limits(), EmbeddingModels.all()));
      list.addAll(policy.httpModules(platform)); // visitor erasure, as the launcher mounts it
      list.add(new ExportApiModule(new ApiKeyAuth(db), policy.limits(), export));
      return list;
    };
    port = await(ChatFeature.deployPipeline(vertx, platform, policy, canary, bge)
        .compose(x -> GatewayVerticle.deploy(vertx, platform, modules))).port();
    return this;
  }

  /** A real engine worker on the bundled tiny model, the default model when started with {@code start(false)}. */
  ChatHarness withEngine() throws Exception {
    Path modelDir = TinyTestModel.ensure(platform.config().dataDir());
    await(vertx.deployVerticle(new EngineWorkerVerticle(TinyTestModel.MODEL_KEY, modelDir,
        new EngineOptions("cpu", 1, false, 4, 0), "test-node")));
    return this;
  }

  /** The knowledge-base module with retrieval served on the bus, as a node with the rag role has it. */
  Rag withRag() throws Exception {
    Rag rag = Rag.create(vertx, db, RagConfig.defaults(platform.config().dataDir()));
    await(vertx.deployVerticle(rag.retrieverVerticle()));
    return rag;
  }

  Tenant tenant(String slug) throws Exception {
    UUID id = await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID(0))));
    var key = TenantKeys.newApiKey(id);
    String widgetKey = TenantKeys.newWidgetKey(id);
    String origin = "https://" + slug + ".example";
    await(db.inTenant(id, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, system_prompt, max_message_chars) "
            + "VALUES ($1, 'You are the assistant of " + slug + ".', 500)").execute(Tuple.of(id))
        .compose(x -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES ($1, 'test', $2, $3)")
            .execute(Tuple.of(id, key.prefix(), key.hash())))
        .compose(x -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins) "
            + "VALUES ($1, $2, ARRAY[$3])").execute(Tuple.of(id, widgetKey, origin)))
        .mapEmpty()));
    return new Tenant(id, key.plaintext(), widgetKey, origin);
  }

  HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      return http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
  }

  HttpResponse<String> postJson(String path, String bearer, String json) {
    HttpRequest.Builder b = request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return send(b);
  }

  /**
   * A chat completion sent over a raw socket, the socket left open: the caller reads what it needs and
   * leaves mid-answer by closing it.
   */
  Socket openCompletion(String apiKey, JsonObject body) throws IOException {
    byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
    Socket socket = new Socket("127.0.0.1", port);
    OutputStream out = socket.getOutputStream();
    out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + apiKey
        + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
    return socket;
  }

  /** A number from the owner's view of the database (sees every tenant), for assertions. */
  long count(String sql) {
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  String string(String sql) {
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  void execOwner(String sql) {
    try (Connection c = testDb.ownerJdbc(); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
