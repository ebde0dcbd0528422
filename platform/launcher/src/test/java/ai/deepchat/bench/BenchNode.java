package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The platform under test for {@code bench/load --self-host}, in a JVM of its own so that the load
 * generator's objects and threads are not counted as the platform's (heap per connection is read
 * here). Starts a node (embedded PostgreSQL, all roles, the bundled tiny model), creates a bench tenant
 * whose rate limits are out of the way, prints {@code BENCH ready {json}}, then answers commands on
 * stdin: {@code heap} (full GC, then {@code BENCH heap <heap bytes> <resident bytes>}), {@code gauges} (what a
 * soak watches for drift, as {@code BENCH gauges {json}}), {@code commits} (transactions committed in its
 * database) and {@code quit}.
 * Arguments are {@code KEY=VALUE} configuration (docs/configuration.md) plus BENCH_ORIGIN,
 * BENCH_MAX_TOKENS and BENCH_TEMPERATURE for the widget tenant's settings, and BENCH_FAQ (entries of
 * {@link BenchFaq}, default 0).
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
    int faqEntries = Integer.parseInt(env.getOrDefault("BENCH_FAQ", "0"));
    env.remove("BENCH_FAQ");
    env.putIfAbsent("DATA_DIR", Files.createTempDirectory("deepchat-bench").toString());
    Node node = Node.start(ConfigLoader.load(env, new String[0]));
    try {
      JsonObject ready = BenchTenant.create(node, origin, maxTokens, temperature);
      if (faqEntries > 0) {
        BenchFaq.create(node, java.util.UUID.fromString(ready.getString("tenantId")), faqEntries);
      }
      ready
          .put("url", "http://127.0.0.1:" + node.httpPort())
          .put("metricsUrl", "http://127.0.0.1:" + node.managementPort())
          .put("pid", ProcessHandle.current().pid());
      System.out.println("BENCH ready " + ready.encode());
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        if (line.equals("heap")) {
          System.out.println("BENCH heap " + heapAfterGc() + " " + residentBytes());
        } else if (line.equals("commits")) {
          System.out.println("BENCH commits " + commits(node));
        } else if (line.equals("gauges")) {
          System.out.println("BENCH gauges " + gauges(node).encode());
        }
      }
    } finally {
      node.close();
    }
    System.exit(0);
  }

  /**
   * What a soak watches: heap after full collections, the node's connections to its database as
   * PostgreSQL counts them, and the event-bus handlers registered (Vert.x's own gauge).
   */
  private static JsonObject gauges(Node node) throws InterruptedException {
    long heap = heapAfterGc();
    long connections = node.platform().database().global(c -> c.query("SELECT count(*) FROM pg_stat_activity"
            + " WHERE datname = current_database() AND backend_type = 'client backend'").execute()
            .map(rows -> rows.iterator().next().getLong(0)))
        .toCompletionStage().toCompletableFuture().join();
    double handlers = io.vertx.micrometer.backends.BackendRegistries.getDefaultNow().find("vertx.eventbus.handlers").gauges().stream()
        .mapToDouble(g -> g.value()).sum();
    return new JsonObject().put("heapBytes", heap).put("dbConnections", connections).put("busHandlers", handlers);
  }

  /**
   * Transactions committed in the node's database so far, as PostgreSQL counts them (each backend
   * reports its counts at least once a second while busy, so a window of many seconds reads true).
   */
  private static long commits(Node node) {
    return node.platform().database().global(c -> c.query("SELECT xact_commit FROM pg_stat_database"
            + " WHERE datname = current_database()").execute().map(rows -> rows.iterator().next().getLong(0)))
        .toCompletionStage().toCompletableFuture().join();
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
}
