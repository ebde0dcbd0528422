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

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md scenario 11: a node frozen (SIGSTOP) past the Hazelcast heartbeat timeout, then
 * resumed (SIGCONT), as a long GC pause or a stalled VM would. While it is frozen the others drop it,
 * and every request/reply address still reaches a live consumer: no stale subscription of the frozen
 * node is left. Once resumed it rejoins (its consumers answer again) or exits cleanly, and again every
 * address reaches a live consumer. The probes come from a cluster member in this JVM.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class FrozenNodeTest {

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aFrozenNodeIsDroppedThenRejoinsWithoutStaleSubscriptions(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    try (ClusterFixture cluster = new ClusterFixture(dir, 3, Map.of("ENGINE_THREADS", "1",
        // the production default: with the other cluster tests' 5 s, the two live members sometimes
        // suspected each other a few seconds after the master froze (each stopped hearing the other
        // while they replaced it) and split into two islands; see docs/operations.md
        "CLUSTER_HEARTBEAT_TIMEOUT_SECONDS", "10"))) {
      // the node to freeze starts first, so it is the oldest member, Hazelcast's master: the hard case,
      // where the others must agree on a new master while the old one neither answers nor leaves
      NodeProcess frozen = cluster.start(2, "c", "pipeline,worker");
      cluster.startAll(List.of("a", "b"), List.of("pipeline", "pipeline,worker"));
      Vertx probe = cluster.joinProbe();
      Map<String, Object> addresses = BusProbe.addresses(List.of(BusProbe.EVERY_NODE, BusProbe.PIPELINE,
          BusProbe.WORKER));
      until("every node answers pings", Duration.ofSeconds(60),
          () -> BusProbe.pingers(probe, 30, PROBE_TIMEOUT).size() == 3);
      assertThat(BusProbe.failures(probe, addresses, 50, PROBE_TIMEOUT)).isEmpty();

      frozen.sigstop();
      Waits.phase("frozen");
      // a, b and the probe remain once the heartbeat timeout (10 s) has dropped the frozen node
      until("the frozen node is dropped", Duration.ofSeconds(60), () -> BusProbe.members(probe) == 3);
      long dropped = System.nanoTime();
      Waits.phase("dropped");
      // the members clean the dropped node's subscriptions from the cluster map just after
      BusProbe.awaitClean(probe, addresses, 30, PROBE_TIMEOUT);
      System.out.printf("stale subscriptions cleaned %d ms after the drop%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - dropped));
      assertThat(BusProbe.failures(probe, addresses, 100, PROBE_TIMEOUT))
          .as("no stale subscription of the frozen node").isEmpty();
      // both live nodes serve pings again (a route refreshed while the drop settles may lag a pass)
      until("both live nodes answer pings", Duration.ofSeconds(30),
          () -> BusProbe.pingers(probe, 30, PROBE_TIMEOUT).size() == 2);

      frozen.sigcont();
      Waits.phase("resumed");
      until("the resumed node rejoins or leaves", Duration.ofSeconds(120),
          () -> !frozen.alive() || BusProbe.pingers(probe, 30, PROBE_TIMEOUT).size() == 3);
      if (!frozen.alive()) {
        assertThat(frozen.exitValue()).as("left cleanly").isZero();
      } else {
        assertThat(BusProbe.members(probe)).isEqualTo(4);
      }
      assertThat(BusProbe.failures(probe, addresses, 100, PROBE_TIMEOUT))
          .as("every address reaches a live consumer after the resume").isEmpty();
    }
  }
}
