package ai.deepchat.failover;

import ai.deepchat.launcher.NodeProcess;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md scenario 9: two of five nodes SIGKILLed at once (a pipeline and a worker, so every
 * kind of address loses a consumer, and Hazelcast partitions whose owner and backup both died lose
 * their entries). Within 60 s of the kill, 1,000 request/reply probes per address, sent from a member
 * in the test JVM, all reach live consumers.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class KillTwoOfFiveTest {

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void afterTwoOfFiveDieEveryAddressAnswersWithinAMinute(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir)
      throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    try (ClusterFixture cluster = new ClusterFixture(dir, 5, Map.of("ENGINE_THREADS", "1"))) {
      List<NodeProcess> nodes = cluster.startAll(List.of("p1", "p2", "p3", "w1", "w2"),
          List.of("pipeline", "pipeline", "pipeline", "worker", "worker"));
      Vertx probe = cluster.joinProbe();
      Map<String, Object> addresses = BusProbe.addresses(List.of(BusProbe.EVERY_NODE, BusProbe.PIPELINE,
          BusProbe.WORKER));
      long ready = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (BusProbe.pingers(probe, 50, PROBE_TIMEOUT).size() < 5) {
        assertThat(System.nanoTime()).as("every node answers pings").isLessThan(ready);
      }
      assertThat(BusProbe.failures(probe, addresses, 50, PROBE_TIMEOUT)).isEmpty();

      nodes.get(2).sigkill();
      nodes.get(4).sigkill();
      long killed = System.nanoTime();
      // rounds of probes until one is clean (the dead nodes dropped, lost entries republished), then the full count
      Map<String, List<String>> failures = BusProbe.failures(probe, addresses, 20, PROBE_TIMEOUT);
      while (!failures.isEmpty() && System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(50)) {
        Thread.sleep(200);
        failures = BusProbe.failures(probe, addresses, 20, PROBE_TIMEOUT);
      }
      assertThat(failures).as("probes still failing 50 s after the kill").isEmpty();
      assertThat(BusProbe.members(probe)).as("the three survivors and the probe").isEqualTo(4);
      assertThat(BusProbe.failures(probe, addresses, 1000, PROBE_TIMEOUT))
          .as("1,000 probes per address").isEmpty();
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed);
      System.out.println("kill 2 of 5: every address answered 1,000 probes " + seconds + " s after the kill");
      assertThat(seconds).as("within 60 s of the kill").isLessThanOrEqualTo(60);
      assertThat(BusProbe.pingers(probe, 50, PROBE_TIMEOUT)).hasSize(3);
    }
  }
}
