package ai.deepchat.platform.config;

import ai.deepchat.platform.nativelib.NativeLibraries;
import io.vertx.core.VertxOptions;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The typed configuration of one node, parsed once at start by {@link ConfigLoader}. Every key is
 * documented in docs/configuration.md.
 */
public record PlatformConfig(
    Set<Role> roles,
    Http http,
    Database database,
    Path dataDir,
    Cluster cluster,
    Seed seed,
    Engine engine,
    Console console,
    Policy policy,
    Canary canary,
    Chat chat,
    Operations operations,
    Metrics metrics,
    Instances instances,
    Edge edge,
    Workers workers,
    Handoff handoff,
    Channels channels,
    Secrets secrets) {

  /** The configuration before the secrets-at-rest keys existed: a key generated under DATA_DIR. */
  public PlatformConfig(Set<Role> roles, Http http, Database database, Path dataDir, Cluster cluster, Seed seed,
                        Engine engine, Console console, Policy policy, Canary canary, Chat chat,
                        Operations operations, Metrics metrics, Instances instances, Edge edge, Workers workers,
                        Handoff handoff, Channels channels) {
    this(roles, http, database, dataDir, cluster, seed, engine, console, policy, canary, chat, operations, metrics,
        instances, edge, workers, handoff, channels, Secrets.defaults());
  }

  /** The configuration before the handoff and messaging-channel keys existed: both at their defaults. */
  public PlatformConfig(Set<Role> roles, Http http, Database database, Path dataDir, Cluster cluster, Seed seed,
                        Engine engine, Console console, Policy policy, Canary canary, Chat chat,
                        Operations operations, Metrics metrics, Instances instances, Edge edge, Workers workers) {
    this(roles, http, database, dataDir, cluster, seed, engine, console, policy, canary, chat, operations, metrics,
        instances, edge, workers, Handoff.defaults(), Channels.defaults());
  }

  /** The configuration before the messaging-channel keys existed: channels at their defaults. */
  public PlatformConfig(Set<Role> roles, Http http, Database database, Path dataDir, Cluster cluster, Seed seed,
                        Engine engine, Console console, Policy policy, Canary canary, Chat chat,
                        Operations operations, Metrics metrics, Instances instances, Edge edge, Workers workers,
                        Handoff handoff) {
    this(roles, http, database, dataDir, cluster, seed, engine, console, policy, canary, chat, operations, metrics,
        instances, edge, workers, handoff, Channels.defaults());
  }

  /** The configuration before the worker-pool keys existed: pools at their defaults. */
  public PlatformConfig(Set<Role> roles, Http http, Database database, Path dataDir, Cluster cluster, Seed seed,
                        Engine engine, Console console, Policy policy, Canary canary, Chat chat,
                        Operations operations, Metrics metrics, Instances instances, Edge edge) {
    this(roles, http, database, dataDir, cluster, seed, engine, console, policy, canary, chat, operations, metrics,
        instances, edge, Workers.defaults());
  }

  /** The configuration before the HTTP edge keys existed: edge limits at their defaults. */
  public PlatformConfig(Set<Role> roles, Http http, Database database, Path dataDir, Cluster cluster, Seed seed,
                        Engine engine, Console console, Policy policy, Canary canary, Chat chat,
                        Operations operations, Metrics metrics, Instances instances) {
    this(roles, http, database, dataDir, cluster, seed, engine, console, policy, canary, chat, operations, metrics,
        instances, Edge.defaults());
  }

  /** The configuration before the operations keys existed: operations, metrics and instances at their defaults. */
  public PlatformConfig(Set<Role> roles, Http http, Database database, Path dataDir, Cluster cluster, Seed seed,
                        Engine engine, Console console, Policy policy, Canary canary, Chat chat) {
    this(roles, http, database, dataDir, cluster, seed, engine, console, policy, canary, chat,
        Operations.defaults(), Metrics.defaults(), Instances.defaults(), Edge.defaults(), Workers.defaults());
  }

  public record Http(String host, int port) {
  }

  /**
   * Database: {@code url} empty means the embedded PostgreSQL under {@code dataDir/postgres}.
   * {@code appPassword} empty means a generated password kept in the data directory.
   * {@code apiKeyCache}: serve API-key lookups from a cache invalidated by LISTEN/NOTIFY (ApiKeyCache).
   * {@code poolPerEventLoop}: the {@code poolSize} connections shared out over one pool per event loop, so a
   * statement is sent and answered on its caller's thread (#25, DB_POOL_PER_EVENT_LOOP).
   */
  public record Database(Optional<String> url, int embeddedPort, int poolSize,
                         Optional<String> appPassword, boolean apiKeyCache, boolean poolPerEventLoop) {

    /** With the API-key cache on and one pool for the node (the defaults). */
    public Database(Optional<String> url, int embeddedPort, int poolSize, Optional<String> appPassword) {
      this(url, embeddedPort, poolSize, appPassword, true, false);
    }

    public boolean embedded() {
      return url.isEmpty();
    }
  }

  /**
   * Clustering: mode "none" or "hazelcast". Discovery "tcp" joins the explicit member list;
   * "kubernetes" asks the Kubernetes API for the endpoints of a (headless) service. {@code quorum}:
   * the members a node must see to take new chat turns (0: no such rule), see {@code ClusterQuorum};
   * {@code selfCheckSeconds}: how often a node re-adds its own subscriptions missing from the cluster map.
   */
  public record Cluster(String mode, List<String> members, String host, int port,
                        int eventBusPort, int heartbeatTimeoutSeconds, Optional<EventBusTls> tls,
                        String discovery, String kubernetesServiceName, Optional<String> kubernetesNamespace,
                        int quorum, int selfCheckSeconds) {

    /** How often, by default, a node checks that the cluster map still holds its own subscriptions. */
    public static final int SELF_CHECK_SECONDS = 5;

    /** TCP-IP discovery with the member list, no quorum rule. */
    public Cluster(String mode, List<String> members, String host, int port, int eventBusPort,
                   int heartbeatTimeoutSeconds, Optional<EventBusTls> tls) {
      this(mode, members, host, port, eventBusPort, heartbeatTimeoutSeconds, tls, "tcp", "deepchat-hazelcast",
          Optional.empty(), 0, SELF_CHECK_SECONDS);
    }

    /** The default quorum: a majority of the member list when it names three or more, else none. */
    public static int majorityOf(List<String> members) {
      return members.size() >= 3 ? members.size() / 2 + 1 : 0;
    }

    public boolean enabled() {
      return "hazelcast".equals(mode);
    }

    public boolean kubernetes() {
      return "kubernetes".equals(discovery);
    }
  }

  /** Event-bus TLS between nodes: a PKCS#12 key store used both as key and trust store. */
  public record EventBusTls(Path keyStore, String password) {
  }

  /** First-start seeding of the demo tenant (embedded default only, idempotent). */
  public record Seed(boolean enabled, String tenantSlug, String adminEmail,
                     Optional<String> adminPassword) {
  }

  /**
   * Engine workers: the model folder served locally, the backend ("cpu", "cuda:0"), CPU threads, how
   * many sequences generate at once (more wait in the worker's queue), and how long a stopping worker
   * lets running generations finish before it cuts them; {@code nativeCacheDir} is where the jar's JNI
   * libraries are unpacked once per version (NATIVE_CACHE_DIR); {@code quantization}: how the weights
   * are held (ENGINE_QUANTIZATION).
   */
  public record Engine(Optional<Path> modelDir, String backend, int threads, int maxSequences,
                       int drainSeconds, Path nativeCacheDir, Quantization quantization) {

    /** How the engine holds the weight matrices: as the checkpoint stores them, or int8 quantized at load. */
    public enum Quantization { NONE, INT8 }

    /** Weights as the checkpoint stores them. */
    public Engine(Optional<Path> modelDir, String backend, int threads, int maxSequences, int drainSeconds,
                  Path nativeCacheDir) {
      this(modelDir, backend, threads, maxSequences, drainSeconds, nativeCacheDir, Quantization.NONE);
    }

    /** Without a cache directory: the user's cache, as {@code NativeLibraries} picks it. */
    public Engine(Optional<Path> modelDir, String backend, int threads, int maxSequences, int drainSeconds) {
      this(modelDir, backend, threads, maxSequences, drainSeconds,
          NativeLibraries.defaultCacheDirectory(java.util.Map.of(), System.getProperty("user.home", ".")));
    }
  }

  /**
   * Admin console: the node's JWT signing secret, also behind visitor tokens (empty = generated once
   * under DATA_DIR/secrets/jwt-secret, see {@code JwtSecret}),
   * whether session cookies are Secure (empty = only when the request came over https), and the
   * platform super-admin created at first start.
   */
  public record Console(Optional<String> jwtSecret, Optional<Boolean> secureCookies,
                        Optional<String> superadminEmail, Optional<String> superadminPassword) {
  }

  /**
   * Policy: how often the retention job runs, and how many in-JVM rate-limit buckets a node keeps
   * (least recently used ones are dropped first; a dropped bucket restarts full). {@code trustedProxies}:
   * addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For names the client (from anyone
   * else the header is ignored); {@code newVisitorsPerMinute}: widget visitors one client address may
   * create per tenant and minute; {@code outboundAllowedHosts}: the endpoints ({@code host} or
   * {@code host:port}) tenant-set and platform-wide URLs may reach although internal;
   * {@code rolloutOutcomeRetentionDays}: the longest the retention job keeps rollout outcomes (a tenant's
   * shorter retention_days wins).
   */
  public record Policy(int retentionIntervalMinutes, int rateLimitMaxBuckets, List<String> trustedProxies,
                       int newVisitorsPerMinute, List<String> outboundAllowedHosts, int rolloutOutcomeRetentionDays) {

    /** Rollout outcomes kept 90 days at most. */
    public Policy(int retentionIntervalMinutes, int rateLimitMaxBuckets, List<String> trustedProxies,
                  int newVisitorsPerMinute, List<String> outboundAllowedHosts) {
      this(retentionIntervalMinutes, rateLimitMaxBuckets, trustedProxies, newVisitorsPerMinute, outboundAllowedHosts, 90);
    }

    /**
     * Without the client-address keys and the outbound allow-list: no trusted proxy (the client is the
     * socket's peer), 20 new widget visitors per client address and minute, every internal address refused.
     */
    public Policy(int retentionIntervalMinutes, int rateLimitMaxBuckets) {
      this(retentionIntervalMinutes, rateLimitMaxBuckets, List.of(), 20, List.of());
    }

    /** No outbound allow-list: every internal address is refused. */
    public Policy(int retentionIntervalMinutes, int rateLimitMaxBuckets, List<String> trustedProxies,
                  int newVisitorsPerMinute) {
      this(retentionIntervalMinutes, rateLimitMaxBuckets, trustedProxies, newVisitorsPerMinute, List.of());
    }
  }

  /**
   * Model rollouts: how often each node reloads routing as a safety net beside the change events, how
   * long a worker announcement stays valid, the similarity at which a shadow answer counts as agreeing,
   * and the default guard of a rollout (bounds on the candidate's error rate and p95 time to first
   * token, over a sliding window once it holds a minimum number of requests).
   */
  public record Canary(int refreshSeconds, int workerTtlSeconds, double shadowAgreementThreshold,
                       double maxErrorRate, int maxP95TtftMillis, int guardWindowSeconds, int guardMinSamples) {
  }

  /**
   * The chat pipeline (its visitor tokens are signed with {@link Console#jwtSecret}). DeepSeek's API
   * is the remote backend when {@code deepseekApiKey} is set; {@code engineModelKey} names the model the local engine serves from MODEL_DIR. Timeouts in milliseconds.
   * {@code maxChoices}: the highest {@code n} of one API request (each choice is a generation of its own).
   */
  public record Chat(long maxBodyBytes, Optional<String> deepseekApiKey,
                     String deepseekBaseUrl, String deepseekModel, Optional<String> engineModelKey,
                     int contextTokens, int defaultMaxTokens, long requestTimeoutMs, long idleTimeoutMs,
                     long retrievalTimeoutMs, int cacheSize, long cacheTtlSeconds, int maxChoices) {
  }

  /**
   * Operations: how long a stopping node lets in-flight requests finish after readiness goes down,
   * how long it keeps answering (readiness DOWN) before closing even when idle, so load balancers
   * that poll readiness stop sending first,
   * how many streamed answers one gateway serves at once (the excess gets 503 + Retry-After), and
   * the Retry-After it suggests.
   */
  public record Operations(int shutdownGraceSeconds, int shutdownReadinessDelaySeconds, int maxConcurrentStreams,
                           int retryAfterSeconds) {
    public static Operations defaults() {
      return new Operations(30, 0, 512, 2);
    }
  }

  /**
   * Metrics: tenants labelled by their own id/slug (the allow-list), how many hash buckets the
   * others share, and how often nvidia-smi is polled where it exists.
   */
  public record Metrics(List<String> tenants, int tenantBuckets, int gpuPollSeconds) {
    public static Metrics defaults() {
      return new Metrics(List.of(), 16, 10);
    }
  }

  /**
   * Verticle instances per node of the roles every request passes through: gateways (HTTP servers
   * sharing the port; Vert.x spreads connections over them) and conversation verticles (the bus
   * spreads turns over them). Each instance runs on its own event loop, so one busy loop no longer
   * holds up every connection and token of the node. Ingestion's share: documents ingested at once
   * ({@code ingestWorkers}, tenants taking turns), each one's parse budget in seconds, and the largest
   * file an upload may bring ({@code ingestMaxFileMb}, INGEST_MAX_FILE_MB). {@code turnsOnEdgeLoop}
   * (PIPELINE_ON_EDGE_LOOP, off by default until a quiet-machine measurement shows it cuts CPU): every
   * event loop gets a conversation verticle, and a turn this node's gateway takes runs on the gateway's loop.
   */
  public record Instances(int gateway, int pipeline, int ingestWorkers, int ingestParseSeconds,
                          int ingestMaxFileMb, boolean turnsOnEdgeLoop) {

    public Instances(int gateway, int pipeline, int ingestWorkers, int ingestParseSeconds, int ingestMaxFileMb) {
      this(gateway, pipeline, ingestWorkers, ingestParseSeconds, ingestMaxFileMb, false);
    }

    /** Documents ingested at once per node by default (INGEST_WORKERS); tenants take turns on them. */
    public static final int DEFAULT_INGEST_WORKERS = 2;
    /** The wall-clock budget of one document's parse by default (INGEST_PARSE_SECONDS): a backstop. */
    public static final int DEFAULT_INGEST_PARSE_SECONDS = 60;
    /** The largest uploaded file by default, in MiB (INGEST_MAX_FILE_MB); it is streamed to disk. */
    public static final int DEFAULT_INGEST_MAX_FILE_MB = 100;

    public Instances(int gateway, int pipeline) {
      this(gateway, pipeline, DEFAULT_INGEST_WORKERS);
    }

    public Instances(int gateway, int pipeline, int ingestWorkers) {
      this(gateway, pipeline, ingestWorkers, DEFAULT_INGEST_PARSE_SECONDS);
    }

    public Instances(int gateway, int pipeline, int ingestWorkers, int ingestParseSeconds) {
      this(gateway, pipeline, ingestWorkers, ingestParseSeconds, DEFAULT_INGEST_MAX_FILE_MB);
    }

    /**
     * The available processors, and at least 2: the multi-instance path then runs on every machine
     * (a one-CPU container or CI runner included), so a flaw in it cannot hide until a larger host.
     * A second instance costs a router and a few objects, not a thread: instances share Vert.x's
     * event loops (2 per processor).
     */
    public static int defaultCount() {
      return Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Vert.x's event loops (2 per processor), at least 2: the default number of conversation verticles,
     * so that every loop a gateway lands on has one of its own and a turn stays on its edge's thread.
     */
    public static int defaultPipelineCount() {
      return Math.max(2, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
    }

    public static Instances defaults() {
      return new Instances(defaultCount(), defaultPipelineCount());
    }
  }

  /**
   * The public HTTP port's defences (seconds; 0 turns a limit off): how long a request may take to
   * send its whole body, how long a connection may stay silent, how many connections one client address
   * may hold, and where a gateway node serves /metrics (never on the public port).
   */
  public record Edge(int bodyTimeoutSeconds, int idleTimeoutSeconds, int maxConnectionsPerAddress,
                     String managementHost, int managementPort) {
    public static Edge defaults() {
      return new Edge(30, 300, 256, "127.0.0.1", 0);
    }
  }

  /**
   * Threads of the node's named worker pools, one pool per kind of blocking work, so one kind cannot
   * take the threads another needs (see {@code WorkerPools}): Argon2 password hashing (each hash holds
   * 19 MiB and a core for tens of milliseconds), embeddings (ONNX, one core per call, so one per
   * processor lets a batch use them all), tokenizer work of the chat pipeline (token counts, prompt building, moderation word lists),
   * engine admissions (chat template, encoding, handing the sequence to the engine), and the outbound
   * policy's host lookups (DNS: they wait on the network, up to the resolver's timeout, not on a core).
   */
  public record Workers(int passwordHashing, int embeddings, int tokenizer, int engineAdmissions,
                        int outboundLookups) {
    public static Workers defaults() {
      int cpus = Instances.defaultCount();
      return new Workers(2, cpus, cpus, cpus, 4);
    }
  }

  /**
   * Human handoff: how often a node refreshes the presence heartbeat of the agents whose inbox stream it
   * holds, and after how long without one an agent's claimed conversations go back to the queue (the
   * agent's node died or lost the agent).
   */
  public record Handoff(int heartbeatSeconds, int agentTimeoutSeconds) {
    public static Handoff defaults() {
      return new Handoff(5, 30);
    }
  }

  /**
   * WeChat and WeCom channels: the API bases (Tencent's hosts by default; tests point them at a loopback
   * simulator, which OUTBOUND_ALLOWED_HOSTS must then allow), how long a push may wait for an answer it
   * can give passively (WeChat gives up after 5 s), how long a node holds a message it answers before
   * another node may take it over, how often each node looks for such messages, and how often
   * ({@code heartbeatMs}) the node answering a message renews its lease.
   */
  public record Channels(String wechatApiBase, String wecomApiBase, int passiveBudgetMs, int leaseSeconds,
                         int sweepIntervalMs, int heartbeatMs, int mediaMaxBytes) {
    /** The largest picture a channel fetches and stores (WeChat's own limit for images is 10 MB). */
    public static final int DEFAULT_MEDIA_MAX_BYTES = 10 << 20;

    /** The channel keys before the media limit existed: the limit at its default. */
    public Channels(String wechatApiBase, String wecomApiBase, int passiveBudgetMs, int leaseSeconds,
                    int sweepIntervalMs, int heartbeatMs) {
      this(wechatApiBase, wecomApiBase, passiveBudgetMs, leaseSeconds, sweepIntervalMs, heartbeatMs,
          DEFAULT_MEDIA_MAX_BYTES);
    }

    public static Channels defaults() {
      return new Channels("https://api.weixin.qq.com", "https://qyapi.weixin.qq.com", 3000, 10, 2000, 2500,
          DEFAULT_MEDIA_MAX_BYTES);
    }
  }

  /**
   * Tenant secrets at rest (see {@code SecretBox}): {@code key} seals (SECRETS_KEY, 32 bytes as base64;
   * empty = generated once under DATA_DIR/secrets/secrets-key), {@code oldKeys} only open what they sealed
   * before a rotation (SECRETS_OLD_KEYS). Both hold the keys as base64.
   */
  public record Secrets(Optional<String> key, List<String> oldKeys) {
    public static Secrets defaults() {
      return new Secrets(Optional.empty(), List.of());
    }
  }
}
