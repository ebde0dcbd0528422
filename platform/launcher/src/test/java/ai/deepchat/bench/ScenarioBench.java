package ai.deepchat.bench;

import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The long runs of RELIABILITY scenarios 1, 2 and 5 ({@code bench/scenarios}): a self-hosted node, then
 * steady chat load with the admin and history APIs polled for {@code --minutes}, then a soak of
 * {@code --soak-rounds} rounds of {@code --round-seconds}; prints the figures and PASS/FAIL per check,
 * and exits 1 when any check fails.
 */
public final class ScenarioBench {

  private ScenarioBench() {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>(Map.of("minutes", "10", "chat-users", "16", "admin-users", "4",
        "soak-rounds", "10", "round-seconds", "60", "node-jvm", "-Xmx1g", "out", "bench/out/scenarios"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--") || !opts.containsKey(args[i].substring(2))) {
        throw new IllegalArgumentException("unknown option " + args[i] + " (see bench/scenarios)");
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    Path out = Path.of(opts.get("out"));
    Files.createDirectories(out);
    System.out.println("scenario bench, options " + opts);
    Vertx vertx = Vertx.vertx();
    boolean passed;
    try (BenchNodeClient node = startNode(Files.createTempDirectory("deepchat-scenarios"), opts.get("node-jvm"),
        out.resolve("node.log"))) {
      LoadScenarios scenarios = new LoadScenarios(vertx, node, LoadScenarios.Bounds.TINY_MODEL_CPU, System.out::println);
      int chat = Integer.parseInt(opts.get("chat-users"));
      int admin = Integer.parseInt(opts.get("admin-users"));
      List<Verdict> verdicts = new ArrayList<>(scenarios.steady(chat, admin, 30_000,
          TimeUnit.MINUTES.toMillis(Long.parseLong(opts.get("minutes")))));
      verdicts.add(scenarios.soak(chat, admin, Integer.parseInt(opts.get("soak-rounds")),
          TimeUnit.SECONDS.toMillis(Long.parseLong(opts.get("round-seconds")))));
      verdicts.forEach(System.out::println);
      passed = verdicts.stream().allMatch(Verdict::passed);
      System.out.println(passed ? "PASS: all scenarios within bounds" : "FAIL: see the FAIL lines above");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    System.exit(passed ? 0 : 1);
  }

  /** A bench node (all roles, the tiny model, the bench tenant answering 16 greedy tokens) in a JVM of its own. */
  static BenchNodeClient startNode(Path dataDir, String jvm, Path log) throws Exception {
    Map<String, String> config = new LinkedHashMap<>();
    config.put("DATA_DIR", dataDir.toString());
    config.put("HTTP_HOST", "127.0.0.1");
    config.put("HTTP_PORT", "0");
    config.put("SEED_DEMO", "false");
    config.put("BENCH_ORIGIN", "https://bench.example");
    config.put("BENCH_MAX_TOKENS", "16");
    config.put("BENCH_TEMPERATURE", "0");
    List<String> options = new ArrayList<>(Arrays.asList(jvm.trim().split("\\s+")));
    options.removeIf(String::isEmpty);
    return new BenchNodeClient(options, config, log);
  }
}
