package ai.deepchat.launcher;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM on a real launcher process: readiness goes DOWN at once, new chat requests get 503 with
 * Retry-After while the node still answers, then it leaves within the configured delay and grace
 * and releases its port.
 */
class GracefulShutdownProcessTest {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private HttpResponse<String> send(int port, String method, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5))
        .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("{\"stream\":true}")
            : HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void sigtermDrainsBeforeLeaving(@TempDir Path dir) throws Exception {
    int port = NodeLifecycleTest.freePort();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.equals("DATABASE_URL") || k.equals("ROLES"));
    pb.environment().putAll(java.util.Map.of("DATA_DIR", dir.toString(), "HTTP_PORT", String.valueOf(port),
        "HTTP_HOST", "127.0.0.1", "SEED_DEMO", "false", "ROLES", "gateway,pipeline", "SHUTDOWN_READINESS_DELAY_SECONDS", "4",
        "SHUTDOWN_GRACE_SECONDS", "20", "RETRY_AFTER_SECONDS", "7"));
    pb.redirectOutput(dir.resolve("stdout.log").toFile());
    pb.redirectError(dir.resolve("stderr.log").toFile());
    Process p = pb.start();
    try {
      waitReady(port, p);
      assertThat(send(port, "POST", "/v1/chat/completions").statusCode())
          .as("admitted before shutdown (no chat route on this build answers 404)").isNotEqualTo(503);

      long t0 = System.nanoTime();
      p.destroy(); // SIGTERM

      HttpResponse<String> ready = awaitStatus(port, "/health/ready", 503);
      assertThat(ready.body()).contains("shutting down");
      HttpResponse<String> chat = send(port, "POST", "/v1/chat/completions");
      assertThat(chat.statusCode()).isEqualTo(503);
      assertThat(chat.headers().firstValue("Retry-After")).contains("7");
      assertThat(new JsonObject(chat.body()).getJsonObject("error").getString("code")).isEqualTo("shutting_down");
      assertThat(send(port, "GET", "/health/live").statusCode()).as("still answering while draining").isEqualTo(200);
      assertThat(send(port, "GET", "/metrics").body()).contains("deepchat_gateway_shed_total{reason=\"draining\"}");
      assertThat(p.isAlive()).isTrue();

      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after draining").isTrue();
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      assertThat(seconds).as("kept answering for the readiness delay").isGreaterThanOrEqualTo(4);
      assertThat(seconds).as("did not wait out the whole grace period when idle").isLessThan(20);
      assertThat(portFree(port)).isTrue();
      assertThat(Files.readString(dir.resolve("stderr.log")) + Files.readString(dir.resolve("stdout.log")))
          .contains("draining");
    } finally {
      p.destroyForcibly();
    }
  }

  private HttpResponse<String> awaitStatus(int port, String path, int status) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    HttpResponse<String> r = null;
    while (System.nanoTime() < deadline) {
      r = send(port, "GET", path);
      if (r.statusCode() == status) {
        return r;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no " + status + " from " + path + " within 3 s of SIGTERM; last: "
        + (r == null ? "none" : r.statusCode() + " " + r.body()));
  }

  private static void waitReady(int port, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      assertThat(p.isAlive()).as("process alive").isTrue();
      try {
        if (HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // starting
      }
      Thread.sleep(250);
    }
    throw new AssertionError("node did not become ready");
  }

  private static boolean portFree(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return false;
    } catch (IOException refused) {
      return true;
    }
  }
}
