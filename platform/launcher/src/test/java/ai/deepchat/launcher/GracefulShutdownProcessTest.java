package ai.deepchat.launcher;

import ai.deepchat.failover.FakeDeepSeek;
import ai.deepchat.platform.db.EmbeddedDatabase;
import ai.deepchat.platform.security.TenantKeys;
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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM on a real launcher process: readiness goes DOWN at once, new chat requests get 503 with
 * Retry-After while the node still answers, an answer already streaming finishes and is stored (the
 * embedded PostgreSQL stays up through the drain), then it leaves within the configured delay and grace
 * and releases its port. DeepSeek's API is emulated (a slow stream).
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
    int pgPort = NodeLifecycleTest.freePort();
    int managementPort = NodeLifecycleTest.freePort();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.equals("DATABASE_URL") || k.equals("ROLES"));
    FakeDeepSeek deepseek = new FakeDeepSeek(50, 100); // a 5 s answer
    pb.environment().putAll(java.util.Map.of("DATA_DIR", dir.toString(), "HTTP_PORT", String.valueOf(port),
        "HTTP_HOST", "127.0.0.1", "SEED_DEMO", "false", "ROLES", "gateway,pipeline", "SHUTDOWN_READINESS_DELAY_SECONDS", "4",
        "SHUTDOWN_GRACE_SECONDS", "20", "RETRY_AFTER_SECONDS", "7", "EMBEDDED_PG_PORT", String.valueOf(pgPort)));
    pb.environment().putAll(java.util.Map.of("DEEPSEEK_API_KEY", "fake-key", "DEEPSEEK_BASE_URL", deepseek.baseUrl(),
        "MANAGEMENT_PORT", String.valueOf(managementPort)));
    pb.redirectOutput(dir.resolve("stdout.log").toFile());
    pb.redirectError(dir.resolve("stderr.log").toFile());
    Process p = pb.start();
    try {
      NodeProcess.awaitReady(p, "node", "127.0.0.1", port, Duration.ofSeconds(90), () -> "");
      assertThat(send(port, "POST", "/v1/chat/completions").statusCode())
          .as("admitted before shutdown (no chat route on this build answers 404)").isNotEqualTo(503);
      Iterator<String> answer = streamAnswer(port, apiKey(pgPort, dir));
      while (!answer.next().contains("word0")) {
        // until the answer is streaming
      }

      long t0 = System.nanoTime();
      p.destroy(); // SIGTERM

      HttpResponse<String> ready = awaitStatus(port, "/health/ready", 503);
      assertThat(ready.body()).contains("shutting down");
      // the embedded PostgreSQL outlives the drain, also well into it (its own shutdown hook would have
      // stopped it at the SIGTERM): only "accepting" is DOWN
      assertThat(databaseCheck(ready)).as(ready.body()).isEqualTo("UP");
      Thread.sleep(2000); // well into the drain: the state must hold, not merely be reached
      HttpResponse<String> later = send(port, "GET", "/health/ready");
      assertThat(later.body()).contains("shutting down");
      assertThat(databaseCheck(later)).as(later.body()).isEqualTo("UP");
      HttpResponse<String> chat = send(port, "POST", "/v1/chat/completions");
      assertThat(chat.statusCode()).isEqualTo(503);
      assertThat(chat.headers().firstValue("Retry-After")).contains("7");
      assertThat(new JsonObject(chat.body()).getJsonObject("error").getString("code")).isEqualTo("shutting_down");
      assertThat(send(port, "GET", "/health/live").statusCode()).as("still answering while draining").isEqualTo(200);
      assertThat(send(managementPort, "GET", "/metrics").body()).contains("deepchat_gateway_shed_total{reason=\"draining\"}");
      assertThat(p.isAlive()).isTrue();

      // the answer streaming at the SIGTERM ran to its end; it is stored before its last event
      String last = null;
      while (answer.hasNext()) {
        last = answer.next();
      }
      assertThat(last).as("the answer ended normally").isEqualTo("[DONE]");

      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after draining").isTrue();
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      assertThat(seconds).as("kept answering for the readiness delay").isGreaterThanOrEqualTo(4);
      assertThat(seconds).as("did not wait out the whole grace period when idle").isLessThan(20);
      assertThat(portFree(port)).isTrue();
      assertThat(Files.readString(dir.resolve("stderr.log")) + Files.readString(dir.resolve("stdout.log")))
          .contains("draining");

      // the data directory is free at once (the node waited for PostgreSQL to exit), and holds the answer
      try (EmbeddedDatabase pg = EmbeddedDatabase.start(dir.resolve("postgres"), 0);
           Connection c = DriverManager.getConnection(jdbc(pg.port()), "postgres", pg.ownerEndpoint().password());
           ResultSet rs = c.createStatement().executeQuery(
               "SELECT status, content FROM messages WHERE role = 'assistant'")) {
        assertThat(rs.next()).as("the answer was stored").isTrue();
        assertThat(rs.getString("status")).isEqualTo("complete");
        assertThat(rs.getString("content")).as("up to its last word, written during the drain").contains("word49");
      }
    } finally {
      p.destroyForcibly();
      deepseek.close();
      LauncherProcessTest.stopPostgresLeftBy(dir);
    }
  }

  private static String jdbc(int pgPort) {
    return "jdbc:postgresql://127.0.0.1:" + pgPort + "/deepchat";
  }

  /** A tenant with an API key, written straight into the node's database. */
  private static String apiKey(int pgPort, Path dataDir) throws Exception {
    UUID tenant = UUID.randomUUID();
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    String password = Files.readString(EmbeddedDatabase.superuserPasswordFile(dataDir.resolve("postgres")));
    try (Connection c = DriverManager.getConnection(jdbc(pgPort), "postgres", password);
         PreparedStatement st = c.prepareStatement("WITH t AS (INSERT INTO tenants (id, slug, name)"
             + " VALUES (?, 'drain', 'drain') RETURNING id) INSERT INTO api_keys (tenant_id, name, key_prefix,"
             + " key_hash) SELECT id, 'test', ?, ? FROM t")) {
      st.setObject(1, tenant);
      st.setString(2, key.prefix());
      st.setString(3, key.hash());
      st.executeUpdate();
    }
    return key.plaintext();
  }

  /** The data of the server-sent events of a streamed answer, read as they come. */
  private Iterator<String> streamAnswer(int port, String key) throws IOException, InterruptedException {
    HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],"
            + "\"stream\":true}")).build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body().filter(line -> line.startsWith("data: ")).map(line -> line.substring(6)).iterator();
  }

  private static String databaseCheck(HttpResponse<String> readiness) {
    return new JsonObject(readiness.body()).getJsonArray("checks").stream().map(c -> (JsonObject) c)
        .filter(c -> "database".equals(c.getString("id"))).findFirst().orElseThrow().getString("status");
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

  private static boolean portFree(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return false;
    } catch (IOException refused) {
      return true;
    }
  }
}
