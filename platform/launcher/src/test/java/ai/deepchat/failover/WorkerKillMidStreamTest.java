package ai.deepchat.failover;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md scenario 7 with the real engine: a GPU-worker node (here the CPU backend and the
 * bundled tiny model) is killed while it generates. The client gets a terminal error within the
 * configured idle timeout, and the stored answer is what was delivered, marked interrupted.
 * Skipped where the native engine was not built (-Dnative.skip=true).
 */
class WorkerKillMidStreamTest {

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void workerKilledMidGenerationIsReportedAndTheDeliveredPartIsKept(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    try (ClusterFixture cluster = new ClusterFixture(dir, 3, Map.of("CHAT_IDLE_TIMEOUT_MS", "3000",
        "CHAT_REQUEST_TIMEOUT_MS", "2000", "ENGINE_THREADS", "1"))) {
      NodeProcess worker = cluster.start(0, "worker", "worker");
      cluster.start(1, "pipeline", "pipeline");
      NodeProcess gateway = cluster.start(2, "gateway", "gateway");
      String key = cluster.tenantWithKey("acme");

      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
      HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + gateway.httpPort + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + key)
          .header("Idempotency-Key", "worker-kill-1").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"Write a long"
              + " essay\"}],\"stream\":true,\"max_tokens\":1900,\"temperature\":1.0}")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(r.statusCode()).as(() -> {
        try {
          return new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          return e.toString();
        }
      }).isEqualTo(200);

      StringBuilder delivered = new StringBuilder();
      int deltas = 0;
      long killedAt = 0;
      String ending = "eof";
      try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (!line.startsWith("data: ")) {
            continue;
          }
          String data = line.substring(6);
          if (data.equals("[DONE]")) {
            ending = "done";
            break;
          }
          JsonObject event = new JsonObject(data);
          if (event.containsKey("error")) {
            ending = "error:" + event.getJsonObject("error").getString("code");
            break;
          }
          var choices = event.getJsonArray("choices");
          String content = choices == null || choices.isEmpty() ? null
              : choices.getJsonObject(0).getJsonObject("delta", new JsonObject()).getString("content");
          if (content != null) {
            delivered.append(content);
            if (++deltas == 3) {
              worker.sigkill();
              killedAt = System.nanoTime();
            }
          }
        }
      } catch (IOException e) {
        ending = "reset";
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      assertThat(killedAt).as("the answer streamed at least 3 deltas before the kill").isPositive();
      assertThat(ending).as("a terminal error, not a normal end or a hang").startsWith("error:");
      assertThat(millis).as("reported within the idle timeout plus margin").isLessThan(12_000);

      try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
          "SELECT a.status, a.content FROM messages u JOIN messages a ON a.reply_to = u.id"
              + " WHERE u.idempotency_key = 'api:worker-kill-1'")) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String status = null;
        String content = null;
        while (System.nanoTime() < deadline) {
          ResultSet rs = st.executeQuery();
          if (rs.next()) {
            status = rs.getString(1);
            content = rs.getString(2);
            if (!"streaming".equals(status)) {
              break;
            }
          }
          Thread.sleep(250);
        }
        assertThat(status).isEqualTo("interrupted");
        assertThat(content).as("what the client received is what was kept").startsWith(delivered.toString());
      }
    }
  }
}
