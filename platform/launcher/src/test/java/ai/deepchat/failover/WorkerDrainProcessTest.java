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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM on a GPU-worker node while it streams an answer (the CPU backend and the bundled tiny model
 * stand in for the GPU): the answer completes normally within the drain deadline, the process exits
 * 0, and the next request is served by the other worker. While the answer streams, the workers'
 * gauges on /metrics show which of them holds it. Skipped where the native engine was not built.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class WorkerDrainProcessTest {

  private static final Pattern KV = Pattern.compile("(?m)^deepchat_worker_kv_cache_usage_ratio\\{[^}]*} (\\S+)$");
  private static final Pattern QUEUE = Pattern.compile("(?m)^deepchat_worker_queue_depth\\{[^}]*} (\\S+)$");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void aStoppedWorkerFinishesItsAnswerExitsZeroAndTheOtherServesTheNext(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    try (ClusterFixture cluster = new ClusterFixture(dir, 3, Map.of("ENGINE_THREADS", "1",
        "ENGINE_DRAIN_SECONDS", "120", "CHAT_REQUEST_TIMEOUT_MS", "3000"))) {
      NodeProcess gateway = cluster.start(0, "gateway", "gateway,pipeline");
      NodeProcess w1 = cluster.start(1, "worker1", "worker");
      NodeProcess w2 = cluster.start(2, "worker2", "worker");
      String key = cluster.tenantWithKey("acme");

      HttpResponse<InputStream> r = SseStreams.open(http, gateway.httpPort, key, "drain-1",
          SseStreams.body("Write a long essay", 1900)); // near the test model's window: outlasts the 2 s handover
      assertThat(r.statusCode()).isEqualTo(200);
      AtomicReference<NodeProcess> serving = new AtomicReference<>();
      AtomicReference<String> gauges = new AtomicReference<>();
      SseStreams.Seen seen = SseStreams.read(r, 3, () -> {
        double kv1 = gauge(w1, KV);
        double kv2 = gauge(w2, KV);
        gauges.set("kv " + kv1 + " / " + kv2 + ", queue " + gauge(w1, QUEUE) + " / " + gauge(w2, QUEUE));
        if (kv1 > 0 ^ kv2 > 0) {
          serving.set(kv1 > 0 ? w1 : w2);
          serving.get().sigterm();
        }
      });
      assertThat(serving.get()).as("exactly one worker's KV gauge shows the running answer: " + gauges).isNotNull();
      assertThat(gauges.get()).contains("queue 0.0 / 0.0");
      assertThat(seen.ending()).as("the answer ended normally").isEqualTo("done");
      assertThat(seen.finishReason()).isEqualTo("length");

      NodeProcess stopped = serving.get();
      assertThat(stopped.awaitExit(Duration.ofSeconds(60))).as("the worker exits after draining").isTrue();
      assertThat(stopped.exitValue()).isZero();
      assertThat(stopped.output()).as("it drained with the answer still running")
          .contains("0 handed back, 1 running");

      HttpResponse<InputStream> next = SseStreams.open(http, gateway.httpPort, key, "drain-2",
          SseStreams.body("And another one", 40));
      assertThat(next.statusCode()).isEqualTo(200);
      assertThat(SseStreams.read(next, 0, null).completed()).as("served by the remaining worker").isTrue();
    }
  }

  /** A gauge's value on a node's /metrics (NaN when absent). */
  private double gauge(NodeProcess node, Pattern gauge) {
    try {
      String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort + "/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = gauge.matcher(body);
      return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
