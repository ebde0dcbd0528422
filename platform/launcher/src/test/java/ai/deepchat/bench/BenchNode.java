package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The platform under test for {@code bench/load --self-host}, in a JVM of its own so that the load
 * generator's objects and threads are not counted as the platform's (heap per connection is read
 * here). Starts a node (embedded PostgreSQL, all roles, the bundled tiny model), creates a bench tenant
 * whose rate limits are out of the way, prints {@code BENCH ready {json}}, then answers commands on
 * stdin: {@code heap} (full GC, then {@code BENCH heap <heap bytes> <resident bytes>}) and {@code quit}.
 * Arguments are {@code KEY=VALUE} configuration (docs/configuration.md) plus BENCH_ORIGIN,
 * BENCH_MAX_TOKENS and BENCH_TEMPERATURE for the widget tenant's settings.
 */
public final class BenchNode {

  private BenchNode() {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> env = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      env.put(a.substring(0, eq), a.substring(eq + 1));
    }
    String origin = env.remove("BENCH_ORIGIN");
    int maxTokens = Integer.parseInt(env.remove("BENCH_MAX_TOKENS"));
    double temperature = Double.parseDouble(env.remove("BENCH_TEMPERATURE"));
    env.putIfAbsent("DATA_DIR", Files.createTempDirectory("deepchat-bench").toString());
    Node node = Node.start(ConfigLoader.load(env, new String[0]));
    try {
      JsonObject ready = tenant(node, origin, maxTokens, temperature)
          .put("url", "http://127.0.0.1:" + node.httpPort())
          .put("metricsUrl", "http://127.0.0.1:" + node.managementPort())
          .put("pid", ProcessHandle.current().pid());
      System.out.println("BENCH ready " + ready.encode());
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        if (line.equals("heap")) {
          System.out.println("BENCH heap " + heapAfterGc() + " " + residentBytes());
        }
      }
    } finally {
      node.close();
    }
    System.exit(0);
  }

  /** Heap in use after full collections (repeated: one GC may leave objects awaiting finalization). */
  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(300);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Resident set size (heap, native buffers, zlib state, thread stacks), from /proc. */
  private static long residentBytes() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      // not Linux: resident memory is not reported
    }
    return -1;
  }

  /**
   * A tenant whose widget accepts the bench's origin and whose per-minute limits (tenant, API key,
   * visitor) are at their maximum, with sampled answers of {@code maxTokens} (sampled, so that the
   * response cache never answers instead of the engine). Returns its widget key and API key.
   */
  private static JsonObject tenant(Node node, String origin, int maxTokens, double temperature) {
    var db = node.platform().database();
    UUID tenant = await(db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('bench', 'bench')"
        + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    String widgetKey = TenantKeys.newWidgetKey(tenant);
    TenantKeys.NewApiKey apiKey = TenantKeys.newApiKey(tenant);
    JsonObject settings = new JsonObject().put("max_tokens", maxTokens).put("temperature", temperature);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, settings,"
            + " requests_per_minute, visitor_requests_per_minute, api_key_requests_per_minute)"
            + " VALUES ($1, $2, 1000000, 1000000, 1000000) ON CONFLICT (tenant_id) DO UPDATE"
            + " SET settings = $2, requests_per_minute = 1000000, visitor_requests_per_minute = 1000000,"
            + " api_key_requests_per_minute = 1000000")
        .execute(Tuple.of(tenant, settings))
        .compose(r -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins)"
            + " VALUES ($1, $2, $3)").execute(Tuple.of(tenant, widgetKey, new String[] {origin})))
        .compose(r -> c.preparedQuery("INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash)"
            + " VALUES ($1, 'bench', $2, $3)").execute(Tuple.of(tenant, apiKey.prefix(), apiKey.hash())))));
    return new JsonObject().put("widgetKey", widgetKey).put("apiKey", apiKey.plaintext()).put("origin", origin);
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
