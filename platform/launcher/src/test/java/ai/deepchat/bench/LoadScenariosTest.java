package ai.deepchat.bench;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * RELIABILITY scenarios 1, 2 and 5, short and bounded, against one real node in a JVM of its own (so
 * that its heap is the platform's alone): the bundled tiny model on CPU, embedded PostgreSQL, loopback
 * HTTP and WebSockets. The 10-minute versions are {@code bench/scenarios}; the bounds and why they are
 * what they are: docs/performance.md, "Scenario bounds".
 */
class LoadScenariosTest {

  @TempDir
  static Path dataDir;
  static Vertx vertx;
  static BenchNodeClient node;
  static LoadScenarios scenarios;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    node = ScenarioBench.startNode(dataDir, "-Xmx512m", dataDir.resolve("node.log"));
    scenarios = new LoadScenarios(vertx, node, LoadScenarios.Bounds.TINY_MODEL_CPU, System.out::println);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void steadyChatLoadAndTheAdminApisDuringItStayWithinBounds() throws Exception {
    List<Verdict> verdicts = scenarios.steady(6, 3, 10_000, 15_000);
    verdicts.forEach(System.out::println);
    // latency bounds mean nothing on a machine many times oversubscribed by other jobs: a miss there is
    // reported as inconclusive (skipped, with the figures), never as a pass
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    int cores = Runtime.getRuntime().availableProcessors();
    if (verdicts.stream().anyMatch(v -> !v.passed())) {
      assumeTrue(load <= 3.0 * cores, String.format("inconclusive: load average %.1f on %d cores%n%s", load, cores,
          verdicts));
    }
    assertThat(verdicts).allSatisfy(v -> assertThat(v.passed()).as(v.toString()).isTrue());
  }

  @Test
  void soakLeavesHeapConnectionsAndHandlersWhereTheyWere() throws Exception {
    Verdict v = scenarios.soak(6, 3, 5, 3_000);
    System.out.println(v);
    assertThat(v.passed()).as(v.toString()).isTrue();
  }
}
