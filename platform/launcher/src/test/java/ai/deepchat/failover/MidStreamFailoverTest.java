package ai.deepchat.failover;

import ai.deepchat.failover.SseStreams.Seen;
import ai.deepchat.launcher.NodeProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nodes killed while an answer streams (RELIABILITY.md scenarios 6 and 7), with real node processes
 * on loopback, a real PostgreSQL, and DeepSeek's API emulated as a slow streaming server. The answer
 * path is client → gateway → (event bus) → pipeline → model backend.
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class MidStreamFailoverTest {

  private static final String BODY = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story\"}],"
      + "\"stream\":true}";
  private final SseStreams sse = new SseStreams();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  private HttpResponse<InputStream> open(int port, String key, String idempotencyKey, String body) throws Exception {
    return sse.open(port, key, idempotencyKey, body);
  }

  private static Seen read(HttpResponse<InputStream> r, int n, Runnable afterDeltas) {
    return SseStreams.read(r, n, afterDeltas);
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void gatewayKilledMidStreamThenTheRetryOnAnotherGatewayIsCountedOnce(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    try (FakeDeepSeek deepseek = new FakeDeepSeek(40, 100);
         ClusterFixture cluster = new ClusterFixture(dir, 3, Map.of("DEEPSEEK_API_KEY", "fake-key",
             "DEEPSEEK_BASE_URL", deepseek.baseUrl()))) {
      NodeProcess pipeline = cluster.start(0, "pipeline", "pipeline");
      NodeProcess gw1 = cluster.start(1, "gateway-1", "gateway");
      NodeProcess gw2 = cluster.start(2, "gateway-2", "gateway");
      String key = cluster.tenantWithKey("acme");

      HttpResponse<InputStream> first = open(gw1.httpPort, key, "turn-0001", BODY);
      assertThat(first.statusCode()).isEqualTo(200);
      Seen seen = read(first, 3, gw1::sigkill);
      assertThat(seen.deltas()).hasSizeGreaterThanOrEqualTo(3);
      assertThat(seen.ending()).as("the client sees the stream break, not a normal end").isIn("eof", "reset");
      assertThat(gw1.awaitExit(Duration.ofSeconds(10))).isTrue();

      // the pipeline settles the turn (finished or interrupted): it never stays half-written
      String status = awaitAnswerLeavesStreaming(cluster, "api:turn-0001", Duration.ofSeconds(60));
      assertThat(status).isIn("complete", "interrupted");

      HttpResponse<InputStream> retry = open(gw2.httpPort, key, "turn-0001", BODY);
      assertThat(retry.statusCode()).isEqualTo(200);
      Seen retried = read(retry, -1, () -> { });
      assertThat(retried.ending()).isEqualTo("done");
      int backendCalls = deepseek.requests.get();
      HttpResponse<InputStream> again = open(gw2.httpPort, key, "turn-0001", BODY);
      Seen replayed = read(again, -1, () -> { });
      assertThat(replayed.ending()).isEqualTo("done");
      assertThat(String.join("", replayed.deltas())).as("a completed turn is replayed, not regenerated")
          .isEqualTo(String.join("", retried.deltas()));
      assertThat(deepseek.requests.get()).isEqualTo(backendCalls);

      // the pipeline timed the generated answers (PlatformMetrics), scraped like Prometheus does
      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pipeline.httpPort
          + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("deepchat_time_to_first_token_seconds_bucket")
          .contains("deepchat_inter_token_latency_seconds_count").contains("deepchat_generated_tokens_total")
          .contains("outcome=\"complete\"");

      try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
          "SELECT m.role, m.status FROM messages m WHERE m.conversation_id ="
              + " (SELECT conversation_id FROM messages WHERE idempotency_key = ?) ORDER BY m.role DESC")) {
        st.setString(1, "api:turn-0001");
        ResultSet rs = st.executeQuery();
        List<String> rows = new ArrayList<>();
        while (rs.next()) {
          rows.add(rs.getString(1) + ":" + rs.getString(2));
        }
        assertThat(rows).as("one question, one answer, whatever the retries").containsExactly(
            "user:complete", "assistant:complete");
      }
    }
  }

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void pipelineKilledMidStreamEndsTheStreamWithAnErrorWithinTheTimeout(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    try (FakeDeepSeek deepseek = new FakeDeepSeek(200, 100);
         ClusterFixture cluster = new ClusterFixture(dir, 3, Map.of("DEEPSEEK_API_KEY", "fake-key",
             "DEEPSEEK_BASE_URL", deepseek.baseUrl(), "CHAT_IDLE_TIMEOUT_MS", "3000",
             "CHAT_REQUEST_TIMEOUT_MS", "2000"))) {
      NodeProcess gateway = cluster.start(0, "gateway", "gateway");
      NodeProcess pipeline = cluster.start(1, "pipeline-1", "pipeline");
      String key = cluster.tenantWithKey("acme");

      HttpResponse<InputStream> r = open(gateway.httpPort, key, null, BODY);
      assertThat(r.statusCode()).isEqualTo(200);
      long[] killedAt = {0};
      Seen seen = read(r, 3, () -> {
        pipeline.sigkill();
        killedAt[0] = System.nanoTime();
      });
      long millis = TimeUnit.NANOSECONDS.toMillis(seen.endedAtNanos() - killedAt[0]);
      assertThat(seen.ending()).as("a terminal error event, not a hang or a silent end").startsWith("error:");
      // the gateway gives up on a silent pipeline after CHAT_IDLE_TIMEOUT_MS + 2 x CHAT_REQUEST_TIMEOUT_MS
      assertThat(millis).as("reported within the configured silence limit (7 s) plus margin, " + seen.ending())
          .isLessThan(12_000);
      assertThat(gateway.alive()).isTrue();

      // a fresh pipeline node joins and serves the next answer
      cluster.start(2, "pipeline-2", "pipeline");
      String shortBody = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"max_tokens\":5}";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Seen after = read(open(gateway.httpPort, key, null, shortBody), -1, () -> { });
      while (!after.ending().equals("done") && System.nanoTime() < deadline) {
        Thread.sleep(1000); // the gateway may still be learning that pipeline-1 is gone
        after = read(open(gateway.httpPort, key, null, shortBody), -1, () -> { });
      }
      assertThat(after.ending()).isEqualTo("done");
    }
  }

  private static String awaitAnswerLeavesStreaming(ClusterFixture cluster, String idempotencyKey, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String status = null;
    while (System.nanoTime() < deadline) {
      try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
          "SELECT a.status FROM messages u JOIN messages a ON a.reply_to = u.id WHERE u.idempotency_key = ?")) {
        st.setString(1, idempotencyKey);
        ResultSet rs = st.executeQuery();
        status = rs.next() ? rs.getString(1) : null;
      }
      if (status != null && !status.equals("streaming")) {
        return status;
      }
      Thread.sleep(250);
    }
    return status;
  }
}
