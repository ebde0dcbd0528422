package ai.deepchat.failover;

import ai.deepchat.launcher.NodeProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md scenario 8: a rolling restart with SIGTERM, one node at a time, under steady chat
 * traffic, fails no request. Two nodes, each a gateway, a pipeline and a worker (the CPU backend and
 * the bundled tiny model), so each restart drains all three. Clients go through a load balancer
 * emulated here: it takes a node out of rotation before stopping it (as Kubernetes removes a
 * terminating pod's endpoint), puts it back once it is ready, and moves to the next gateway when a
 * connection is refused. A request fails when it gets an error status, an error event or a broken
 * stream. Skipped where the native engine was not built.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class RollingRestartTest {

  private static final String ROLES = "gateway,pipeline,worker";
  private static final int CLIENTS = 2;

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void restartingEveryNodeInTurnFailsNoRequest(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    try (ClusterFixture cluster = new ClusterFixture(dir, 2, Map.of("ENGINE_THREADS", "1",
        "CHAT_REQUEST_TIMEOUT_MS", "3000"))) {
      List<NodeProcess> nodes = new ArrayList<>(cluster.startAll(List.of("a", "b"), List.of(ROLES, ROLES)));
      String key = cluster.tenantWithKey("acme");
      Balancer lb = new Balancer();
      nodes.forEach(n -> lb.add(n.httpPort));
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        Thread t = new Thread(() -> lb.run(key), "client-" + c);
        t.start();
        clients.add(t);
      }
      try {
        lb.awaitServed(nodes.get(0).httpPort, 3);
        lb.awaitServed(nodes.get(1).httpPort, 3);
        for (int i = 0; i < nodes.size(); i++) {
          NodeProcess old = nodes.get(i);
          lb.remove(old.httpPort);
          old.sigterm();
          assertThat(old.awaitExit(Duration.ofSeconds(90))).as(old.name + " exits after draining").isTrue();
          assertThat(old.exitValue()).isZero();
          NodeProcess fresh = cluster.start(i, old.name + "-restarted", ROLES, old.httpPort);
          nodes.set(i, fresh);
          lb.add(fresh.httpPort);
          lb.awaitServed(fresh.httpPort, 3);
        }
      } finally {
        lb.stop();
        for (Thread t : clients) {
          t.join(TimeUnit.SECONDS.toMillis(60));
        }
      }
      System.out.println("rolling restart: " + lb.served.get() + " answers served, failures: " + lb.failures);
      assertThat(lb.failures).as("failed requests").isEmpty();
      assertThat(lb.served.get()).isGreaterThanOrEqualTo(12);
    }
  }

  /**
   * The load balancer and its clients: gateways in rotation (one HTTP client each, new when a node
   * comes back, as a fresh pool would be), round robin, next gateway on a refused connection.
   */
  private static final class Balancer {
    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicInteger served = new AtomicInteger();
    private final Map<Integer, HttpClient> rotation = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> servedBy = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger requestIds = new AtomicInteger();
    private volatile boolean stopped;

    void add(int port) {
      servedBy.put(port, new AtomicInteger());
      rotation.put(port, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build());
    }

    void remove(int port) {
      rotation.remove(port);
    }

    void stop() {
      stopped = true;
    }

    /** Waits until {@code port} has served {@code n} requests since it (re)joined the rotation. */
    void awaitServed(int port, int n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (servedBy.get(port).get() < n) {
        assertThat(System.nanoTime()).as("gateway " + port + " serves; failures so far: " + failures)
            .isLessThan(deadline);
        Thread.sleep(50);
      }
    }

    /** One client: a streamed answer after another until stopped. */
    void run(String key) {
      while (!stopped) {
        List<Integer> ports = new ArrayList<>(rotation.keySet());
        if (ports.isEmpty()) {
          Thread.onSpinWait();
          continue;
        }
        int port = ports.get(Math.floorMod(next.getAndIncrement(), ports.size()));
        HttpClient http = rotation.get(port);
        if (http == null) {
          continue;
        }
        String id = "rolling-" + requestIds.incrementAndGet();
        try {
          HttpResponse<InputStream> r = SseStreams.open(http, port, key, id, SseStreams.body("Say something", 16));
          if (r.statusCode() != 200) {
            failures.add(id + " via " + port + ": HTTP " + r.statusCode() + " "
                + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
            continue;
          }
          SseStreams.Seen seen = SseStreams.read(r, 0, null);
          if (seen.completed()) {
            served.incrementAndGet();
            servedBy.get(port).incrementAndGet();
          } else {
            failures.add(id + " via " + port + ": stream ended with " + seen.ending());
          }
        } catch (ConnectException refused) {
          // the balancer moves on to the next gateway
        } catch (IOException | InterruptedException e) {
          failures.add(id + " via " + port + ": " + e);
        }
      }
    }
  }
}
