package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.util.Map;

/**
 * {@code bench/neighbour}: RELIABILITY scenario 4 at full length on a node of its own (embedded
 * PostgreSQL, in this JVM), two tenants as in {@link NoisyNeighbour}; prints the figures and PASS or
 * FAIL, and exits 1 on FAIL. Options ({@code --name value}), with their defaults:
 * {@code --quota-per-minute 600} (A's API-key limit), {@code --multiplier 10}, {@code --b-rate 50}
 * (B's requests per second), {@code --phase-seconds 5}, {@code --pairs 6}, {@code --allowed-increase 0.10},
 * {@code --noise-ms 0}, {@code --measured-noise false} (true: allow the spread B shows between its own
 * alone phases, as the short test does).
 */
public final class NoisyNeighbourBench {

  private NoisyNeighbourBench() {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = BenchOptions.parse(args, Map.of("quota-per-minute", "600", "multiplier", "10",
        "b-rate", "50", "phase-seconds", "5", "pairs", "6", "allowed-increase", "0.10", "noise-ms", "0", "measured-noise", "false"));
    int quota = Integer.parseInt(opts.get("quota-per-minute"));
    boolean passed;
    try (Node node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", Files.createTempDirectory("deepchat-neighbour")
        .toString(), "HTTP_HOST", "127.0.0.1", "HTTP_PORT", "0", "SEED_DEMO", "false"), new String[0]))) {
      JsonObject a = BenchTenants.create(node, "noisy-a", "https://a.example", new JsonObject(),
          new BenchTenants.Limits(1_000_000, 1000, quota));
      JsonObject b = BenchTenants.create(node, "quiet-b", "https://b.example", new JsonObject(),
          BenchTenants.Limits.UNLIMITED);
      Vertx vertx = Vertx.vertx();
      try {
        NoisyNeighbour.Result r = NoisyNeighbour.run(vertx, new NoisyNeighbour.Settings(node.httpPort(),
            a.getString("apiKey"), quota, Integer.parseInt(opts.get("multiplier")), b.getString("apiKey"),
            Double.parseDouble(opts.get("b-rate")), Double.parseDouble(opts.get("phase-seconds")),
            Integer.parseInt(opts.get("pairs")), Double.parseDouble(opts.get("allowed-increase")),
            Double.parseDouble(opts.get("noise-ms")), Boolean.parseBoolean(opts.get("measured-noise"))));
        System.out.println(r.report());
        passed = r.passed();
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get();
      }
    }
    System.exit(passed ? 0 : 1);
  }
}
