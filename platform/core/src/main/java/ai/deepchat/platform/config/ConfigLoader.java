package ai.deepchat.platform.config;

import ai.deepchat.platform.nativelib.NativeLibraries;
import io.netty.util.NetUtil;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Reads configuration from, in rising priority: an optional properties file ({@code CONFIG_FILE}),
 * environment variables, and command-line flags ({@code --roles=gateway} sets ROLES). Keys are the
 * environment variable names. Every value is validated here so start-up fails with one line.
 */
public final class ConfigLoader {

  private final Map<String, String> values;

  private ConfigLoader(Map<String, String> values) {
    this.values = values;
  }

  public static PlatformConfig load(Map<String, String> env, String[] args) {
    Map<String, String> merged = new HashMap<>();
    Map<String, String> flags = parseArgs(args);
    String file = flags.getOrDefault("CONFIG_FILE", env.get("CONFIG_FILE"));
    if (file != null && !file.isBlank()) {
      merged.putAll(readFile(file));
    }
    merged.putAll(env);
    merged.putAll(flags);
    return new ConfigLoader(merged).parse();
  }

  private static Map<String, String> parseArgs(String[] args) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new ConfigException("arguments", "unexpected argument '" + arg + "' (flags look like --roles=gateway)");
      }
      String body = arg.substring(2);
      String name;
      String value;
      int eq = body.indexOf('=');
      if (eq >= 0) {
        name = body.substring(0, eq);
        value = body.substring(eq + 1);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        name = body;
        value = args[++i];
      } else {
        throw new ConfigException("--" + body, "needs a value");
      }
      flags.put(name.toUpperCase().replace('-', '_'), value);
    }
    return flags;
  }

  private static Map<String, String> readFile(String file) {
    Properties props = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(file))) {
      props.load(reader);
    } catch (IOException e) {
      throw new ConfigException("CONFIG_FILE", "cannot read " + file + " (" + e.getMessage() + ")");
    }
    Map<String, String> map = new HashMap<>();
    props.forEach((k, v) -> map.put(k.toString().trim(), v.toString().trim()));
    return map;
  }

  private PlatformConfig parse() {
    Path dataDir = Path.of(string("DATA_DIR", "data")).toAbsolutePath().normalize();
    Optional<String> jwtSecret = jwtSecret();
    return new PlatformConfig(
        Role.parseList("ROLES", values.get("ROLES")),
        new PlatformConfig.Http(string("HTTP_HOST", "0.0.0.0"), port("HTTP_PORT", 8080)),
        new PlatformConfig.Database(databaseUrl(), port("EMBEDDED_PG_PORT", 0),
            intIn("DB_POOL_SIZE", 16, 1, 512), optional("DATABASE_APP_PASSWORD"), bool("API_KEY_CACHE", true),
            bool("DB_POOL_PER_EVENT_LOOP", true)),
        dataDir,
        cluster(),
        new PlatformConfig.Seed(bool("SEED_DEMO", true), string("SEED_TENANT", "demo"),
            string("ADMIN_EMAIL", "admin@demo.local"), optional("ADMIN_PASSWORD")),
        new PlatformConfig.Engine(optional("MODEL_DIR").map(Path::of), engineBackend(),
            intIn("ENGINE_THREADS", Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 1024),
            intIn("ENGINE_MAX_SEQUENCES", 8, 1, 4096),
            intIn("ENGINE_DRAIN_SECONDS", 30, 0, 3600),
            NativeLibraries.defaultCacheDirectory(values, System.getProperty("user.home", ".")),
            engineQuantization(engineBackend())),
        console(jwtSecret),
        new PlatformConfig.Policy(intIn("RETENTION_INTERVAL_MINUTES", 60, 1, 10080),
            intIn("RATE_LIMIT_MAX_BUCKETS", 100_000, 100, 10_000_000), trustedProxies(),
            intIn("RATE_LIMIT_NEW_VISITORS_PER_MINUTE", 20, 1, 1_000_000), outboundAllowedHosts(),
            intIn("ROLLOUT_OUTCOME_RETENTION_DAYS", 90, 1, 3650)),
        new PlatformConfig.Canary(intIn("CANARY_REFRESH_SECONDS", 30, 1, 3600),
            intIn("CANARY_WORKER_TTL_SECONDS", 6, 2, 300),
            fraction("CANARY_SHADOW_AGREEMENT", 0.85),
            fraction("CANARY_MAX_ERROR_RATE", 0.05),
            intIn("CANARY_MAX_P95_TTFT_MS", 5000, 10, 600_000),
            intIn("CANARY_GUARD_WINDOW_SECONDS", 300, 10, 86_400),
            intIn("CANARY_GUARD_MIN_SAMPLES", 50, 1, 1_000_000)),
        chat(),
        new PlatformConfig.Operations(intIn("SHUTDOWN_GRACE_SECONDS", 30, 0, 3600),
            intIn("SHUTDOWN_READINESS_DELAY_SECONDS", 0, 0, 600),
            intIn("MAX_CONCURRENT_STREAMS", 512, 1, 1_000_000), intIn("RETRY_AFTER_SECONDS", 2, 1, 3600)),
        new PlatformConfig.Metrics(metricsTenants(), intIn("METRICS_TENANT_BUCKETS", 16, 0, 256),
            intIn("GPU_METRICS_INTERVAL_SECONDS", 10, 1, 3600)),
        new PlatformConfig.Instances(intIn("GATEWAY_INSTANCES", PlatformConfig.Instances.defaultCount(), 1, 256),
            intIn("PIPELINE_INSTANCES", PlatformConfig.Instances.defaultPipelineCount(), 1, 256),
            intIn("INGEST_WORKERS", PlatformConfig.Instances.DEFAULT_INGEST_WORKERS, 1, 64),
            intIn("INGEST_PARSE_SECONDS", PlatformConfig.Instances.DEFAULT_INGEST_PARSE_SECONDS, 1, 3600),
            intIn("INGEST_MAX_FILE_MB", PlatformConfig.Instances.DEFAULT_INGEST_MAX_FILE_MB, 1, 10_240),
            bool("PIPELINE_ON_EDGE_LOOP", false)),
        new PlatformConfig.Edge(intIn("HTTP_BODY_TIMEOUT_SECONDS", 30, 0, 3600),
            intIn("HTTP_IDLE_TIMEOUT_SECONDS", 300, 0, 86_400),
            intIn("HTTP_MAX_CONNECTIONS_PER_ADDRESS", 256, 0, 1_000_000),
            string("MANAGEMENT_HOST", "127.0.0.1"), port("MANAGEMENT_PORT", 0)),
        workers(),
        handoff(),
        channels(),
        new PlatformConfig.Secrets(optional("SECRETS_KEY").map(k -> secretsKey("SECRETS_KEY", k)),
            Arrays.stream(string("SECRETS_OLD_KEYS", "").split(",")).map(String::trim).filter(k -> !k.isEmpty())
                .map(k -> secretsKey("SECRETS_OLD_KEYS", k)).toList()));
  }

  /** A 32-byte key as base64, from base64 or 64 hex digits (the form of the generated key file). */
  private static String secretsKey(String key, String value) {
    byte[] bytes = null;
    if (value.matches("[0-9a-fA-F]{64}")) {
      bytes = HexFormat.of().parseHex(value);
    } else {
      try {
        bytes = Base64.getDecoder().decode(value);
      } catch (IllegalArgumentException notBase64) {
        // told below
      }
    }
    if (bytes == null || bytes.length != 32) {
      throw new ConfigException(key, "must be a 32-byte key, as base64 (openssl rand -base64 32) or 64 hex digits");
    }
    return Base64.getEncoder().encodeToString(bytes);
  }

  private PlatformConfig.Handoff handoff() {
    PlatformConfig.Handoff d = PlatformConfig.Handoff.defaults();
    int heartbeat = intIn("HANDOFF_HEARTBEAT_SECONDS", d.heartbeatSeconds(), 1, 300);
    int timeout = intIn("HANDOFF_AGENT_TIMEOUT_SECONDS", d.agentTimeoutSeconds(), 2, 3600);
    if (timeout <= heartbeat) {
      throw new ConfigException("HANDOFF_AGENT_TIMEOUT_SECONDS",
          "must be more than HANDOFF_HEARTBEAT_SECONDS (" + heartbeat + ")");
    }
    return new PlatformConfig.Handoff(heartbeat, timeout);
  }

  private PlatformConfig.Channels channels() {
    PlatformConfig.Channels d = PlatformConfig.Channels.defaults();
    int lease = intIn("CHANNEL_LEASE_SECONDS", d.leaseSeconds(), 1, 3600);
    int heartbeat = intIn("CHANNEL_HEARTBEAT_MS", d.heartbeatMs(), 100, 600_000);
    // a lease must outlive a few missed heartbeats, or a busy but live node loses its message
    if (heartbeat * 3L > lease * 1000L) {
      throw new ConfigException("CHANNEL_HEARTBEAT_MS", "must be at most a third of CHANNEL_LEASE_SECONDS ("
          + lease + " s)");
    }
    return new PlatformConfig.Channels(httpUrl("WECHAT_API_BASE", d.wechatApiBase()),
        httpUrl("WECOM_API_BASE", d.wecomApiBase()),
        intIn("CHANNEL_PASSIVE_BUDGET_MS", d.passiveBudgetMs(), 0, 4500), lease,
        intIn("CHANNEL_SWEEP_INTERVAL_MS", d.sweepIntervalMs(), 100, 600_000), heartbeat,
        intIn("CHANNEL_MEDIA_MAX_BYTES", d.mediaMaxBytes(), 1024, 64 << 20));
  }

  /** An http(s) URL with a host, without a trailing slash. */
  private String httpUrl(String key, String def) {
    String url = checkedHttpUrl(key, string(key, def));
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  private static String checkedHttpUrl(String key, String url) {
    try {
      URI uri = new URI(url);
      if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new ConfigException(key, "must be an http(s) URL with a host");
      }
    } catch (URISyntaxException e) {
      throw new ConfigException(key, "is not a URL (" + e.getReason() + ")");
    }
    return url;
  }

  private PlatformConfig.Workers workers() {
    PlatformConfig.Workers d = PlatformConfig.Workers.defaults();
    return new PlatformConfig.Workers(intIn("PASSWORD_HASH_WORKERS", d.passwordHashing(), 1, 256),
        intIn("EMBEDDING_WORKERS", d.embeddings(), 1, 256), intIn("TOKENIZER_WORKERS", d.tokenizer(), 1, 256),
        intIn("ENGINE_ADMISSION_WORKERS", d.engineAdmissions(), 1, 256),
        intIn("OUTBOUND_LOOKUP_WORKERS", d.outboundLookups(), 1, 256));
  }

  /** The one secret behind console sessions and visitor tokens (see JwtSecret). */
  private Optional<String> jwtSecret() {
    Optional<String> secret = optional("JWT_SECRET");
    if (secret.isPresent() && secret.get().length() < 32) {
      throw new ConfigException("JWT_SECRET", "must be at least 32 characters (HS256 needs a long secret)");
    }
    return secret;
  }

  private PlatformConfig.Chat chat() {
    String baseUrl = checkedHttpUrl("DEEPSEEK_BASE_URL", string("DEEPSEEK_BASE_URL", "https://api.deepseek.com"));
    Optional<String> modelKey = optional("ENGINE_MODEL_KEY");
    modelKey.ifPresent(k -> {
      if (!k.matches("[A-Za-z0-9._-]{1,128}")) {
        throw new ConfigException("ENGINE_MODEL_KEY", "'" + k + "' may use only letters, digits, '.', '_', '-'");
      }
    });
    return new PlatformConfig.Chat(
        intIn("CHAT_MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20),
        optional("DEEPSEEK_API_KEY"), baseUrl.replaceAll("/+$", ""),
        string("DEEPSEEK_MODEL", "deepseek-chat"), modelKey,
        intIn("CHAT_CONTEXT_TOKENS", 8192, 256, 1 << 20),
        intIn("CHAT_DEFAULT_MAX_TOKENS", 1024, 1, 1 << 16),
        intIn("CHAT_REQUEST_TIMEOUT_MS", 10_000, 100, 29_000),
        intIn("CHAT_IDLE_TIMEOUT_MS", 20_000, 100, 600_000),
        intIn("CHAT_RETRIEVAL_TIMEOUT_MS", 2_000, 50, 29_000),
        intIn("CHAT_CACHE_SIZE", 10_000, 0, 10_000_000),
        intIn("CHAT_CACHE_TTL_SECONDS", 3600, 1, 30 * 86400),
        intIn("CHAT_MAX_CHOICES", 8, 1, 16));
  }

  private List<String> metricsTenants() {
    List<String> tenants = Arrays.stream(string("METRICS_TENANTS", "").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).toList();
    if (tenants.size() > 100) {
      throw new ConfigException("METRICS_TENANTS", "lists " + tenants.size()
          + " tenants; at most 100 get their own label (the rest share hash buckets)");
    }
    for (String t : tenants) {
      if (!t.matches("[A-Za-z0-9_-]{1,64}")) {
        throw new ConfigException("METRICS_TENANTS", "'" + t + "' is not a tenant id or slug");
      }
    }
    return tenants;
  }

  /** Endpoints the operator lets outbound calls reach although internal: host or host:port, [v6] in brackets. */
  private List<String> outboundAllowedHosts() {
    List<String> hosts = Arrays.stream(string("OUTBOUND_ALLOWED_HOSTS", "").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).toList();
    for (String h : hosts) {
      if (!h.matches("([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\\[[0-9A-Fa-f:.]{2,45}\\])(:\\d{1,5})?")) {
        throw new ConfigException("OUTBOUND_ALLOWED_HOSTS", "'" + h + "' is not host, host:port or [ipv6]:port");
      }
    }
    if (hosts.size() > 100) {
      throw new ConfigException("OUTBOUND_ALLOWED_HOSTS", "lists " + hosts.size() + " endpoints; at most 100");
    }
    return hosts;
  }

  /** Literal addresses or CIDR ranges only (never names: no DNS decides whom the node trusts). */
  private List<String> trustedProxies() {
    List<String> proxies = Arrays.stream(string("TRUSTED_PROXIES", "").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).toList();
    for (String p : proxies) {
      int slash = p.indexOf('/');
      byte[] ip = NetUtil.createByteArrayFromIpAddressString(slash < 0 ? p : p.substring(0, slash));
      boolean prefixOk = slash < 0 || ip != null && p.substring(slash + 1).matches("\\d{1,3}")
          && Integer.parseInt(p.substring(slash + 1)) <= ip.length * 8;
      if (ip == null || !prefixOk) {
        throw new ConfigException("TRUSTED_PROXIES", "'" + p + "' is not an IP address or CIDR range");
      }
    }
    return proxies;
  }

  private PlatformConfig.Console console(Optional<String> secret) {
    Optional<Boolean> secure = optional("CONSOLE_SECURE_COOKIES").map(v -> bool("CONSOLE_SECURE_COOKIES", false));
    Optional<String> email = optional("SUPERADMIN_EMAIL");
    Optional<String> password = optional("SUPERADMIN_PASSWORD");
    if (email.isPresent() != password.isPresent()) {
      throw new ConfigException(email.isPresent() ? "SUPERADMIN_PASSWORD" : "SUPERADMIN_EMAIL",
          "SUPERADMIN_EMAIL and SUPERADMIN_PASSWORD go together");
    }
    if (email.isPresent() && !email.get().matches("[^@\\s]+@[^@\\s]+")) {
      throw new ConfigException("SUPERADMIN_EMAIL", "'" + email.get() + "' is not an e-mail address");
    }
    if (password.isPresent() && password.get().length() < 10) {
      throw new ConfigException("SUPERADMIN_PASSWORD", "must be at least 10 characters");
    }
    return new PlatformConfig.Console(secret, secure, email, password);
  }

  private PlatformConfig.Cluster cluster() {
    String mode = string("CLUSTER", "none").toLowerCase();
    if (!mode.equals("none") && !mode.equals("hazelcast")) {
      throw new ConfigException("CLUSTER", "unknown mode '" + mode + "' (none or hazelcast)");
    }
    List<String> members = Arrays.stream(string("CLUSTER_MEMBERS", "").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).toList();
    for (String m : members) {
      if (!m.matches("[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5})?")) {
        throw new ConfigException("CLUSTER_MEMBERS", "'" + m + "' is not host or host:port");
      }
    }
    Optional<PlatformConfig.EventBusTls> tls = optional("EVENTBUS_TLS_KEYSTORE").map(path -> {
      if (!Files.isReadable(Path.of(path))) {
        throw new ConfigException("EVENTBUS_TLS_KEYSTORE", "cannot read " + path);
      }
      return new PlatformConfig.EventBusTls(Path.of(path), optional("EVENTBUS_TLS_PASSWORD").orElseThrow(
          () -> new ConfigException("EVENTBUS_TLS_PASSWORD", "required with EVENTBUS_TLS_KEYSTORE")));
    });
    String discovery = string("CLUSTER_DISCOVERY", "tcp").toLowerCase();
    if (!discovery.equals("tcp") && !discovery.equals("kubernetes")) {
      throw new ConfigException("CLUSTER_DISCOVERY", "unknown discovery '" + discovery + "' (tcp or kubernetes)");
    }
    String service = string("CLUSTER_K8S_SERVICE", "deepchat-hazelcast");
    if (!service.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new ConfigException("CLUSTER_K8S_SERVICE", "'" + service + "' is not a Kubernetes service name");
    }
    Optional<String> namespace = optional("CLUSTER_K8S_NAMESPACE");
    namespace.ifPresent(ns -> {
      if (!ns.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
        throw new ConfigException("CLUSTER_K8S_NAMESPACE", "'" + ns + "' is not a Kubernetes namespace");
      }
    });
    // Kubernetes discovery has no member list to count: the operator sets the quorum there.
    int quorum = intIn("CLUSTER_QUORUM", discovery.equals("tcp") ? PlatformConfig.Cluster.majorityOf(members) : 0,
        0, 1000);
    return new PlatformConfig.Cluster(mode, members, string("CLUSTER_HOST", "127.0.0.1"),
        port("CLUSTER_PORT", 5701), port("EVENTBUS_PORT", 0),
        intIn("CLUSTER_HEARTBEAT_TIMEOUT_SECONDS", 10, 2, 120), tls, discovery, service, namespace, quorum,
        intIn("CLUSTER_SELF_CHECK_SECONDS", PlatformConfig.Cluster.SELF_CHECK_SECONDS, 1, 300));
  }

  private Optional<String> databaseUrl() {
    Optional<String> url = optional("DATABASE_URL");
    url.ifPresent(u -> {
      try {
        URI uri = new URI(u);
        if (!"postgres".equals(uri.getScheme()) && !"postgresql".equals(uri.getScheme())) {
          throw new ConfigException("DATABASE_URL", "must start with postgres:// or postgresql://");
        }
        if (uri.getHost() == null) {
          throw new ConfigException("DATABASE_URL", "has no host");
        }
      } catch (URISyntaxException e) {
        throw new ConfigException("DATABASE_URL", "is not a URL (" + e.getReason() + ")");
      }
    });
    return url;
  }

  private String engineBackend() {
    String backend = string("ENGINE_BACKEND", "cpu");
    if (!backend.equals("cpu") && !backend.matches("cuda:\\d+")) {
      throw new ConfigException("ENGINE_BACKEND", "'" + backend + "' is not cpu or cuda:N");
    }
    return backend;
  }

  /** int8 is the CPU backend's: the CUDA backend serves bf16 and would refuse it only once the model loads. */
  private PlatformConfig.Engine.Quantization engineQuantization(String backend) {
    String v = string("ENGINE_QUANTIZATION", "none");
    PlatformConfig.Engine.Quantization q = switch (v.toLowerCase(Locale.ROOT)) {
      case "none" -> PlatformConfig.Engine.Quantization.NONE;
      case "int8" -> PlatformConfig.Engine.Quantization.INT8;
      default -> throw new ConfigException("ENGINE_QUANTIZATION", "'" + v + "' is not none or int8");
    };
    if (q == PlatformConfig.Engine.Quantization.INT8 && !backend.equals("cpu")) {
      throw new ConfigException("ENGINE_QUANTIZATION",
          "int8 runs on the cpu backend only; ENGINE_BACKEND " + backend + " serves the checkpoint's bf16 weights");
    }
    return q;
  }

  private Optional<String> optional(String key) {
    String v = values.get(key);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  private String string(String key, String fallback) {
    return optional(key).orElse(fallback);
  }

  private boolean bool(String key, boolean fallback) {
    Optional<String> v = optional(key);
    if (v.isEmpty()) {
      return fallback;
    }
    return switch (v.get().toLowerCase()) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new ConfigException(key, "'" + v.get() + "' is not true or false");
    };
  }

  private double fraction(String key, double fallback) {
    Optional<String> v = optional(key);
    if (v.isEmpty()) {
      return fallback;
    }
    try {
      double d = Double.parseDouble(v.get());
      if (!(d >= 0 && d <= 1)) {
        throw new ConfigException(key, "'" + v.get() + "' is outside 0..1");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, "'" + v.get() + "' is not a number");
    }
  }

  private int port(String key, int fallback) {
    int port = intIn(key, fallback, 0, 65535);
    return port;
  }

  private int intIn(String key, int fallback, int min, int max) {
    Optional<String> v = optional(key);
    if (v.isEmpty()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.get());
      if (n < min || n > max) {
        throw new ConfigException(key, "'" + v.get() + "' is outside " + min + ".." + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, "'" + v.get() + "' is not a number");
    }
  }
}
