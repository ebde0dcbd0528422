package ai.deepchat.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher as an operator runs it: a real JVM process, real signals, real exit codes. */
class LauncherProcessTest {

  private static Process launch(Path dataDir, Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.equals("DATABASE_URL") || k.equals("ROLES"));
    pb.environment().put("DATA_DIR", dataDir.toString());
    pb.environment().putAll(env);
    pb.redirectOutput(dataDir.resolve("stdout.log").toFile());
    pb.redirectError(dataDir.resolve("stderr.log").toFile());
    return pb.start();
  }

  private static String stderr(Path dataDir) throws IOException {
    return Files.readString(dataDir.resolve("stderr.log"), StandardCharsets.UTF_8);
  }

  @Test
  void badConfigurationStopsWithOneLineNamingTheKey(@TempDir Path dir) throws Exception {
    record Case(Map<String, String> env, String[] args, String key) {
    }
    List<Case> cases = List.of(
        new Case(Map.of("HTTP_PORT", "eighty"), new String[0], "HTTP_PORT"),
        new Case(Map.of("HTTP_PORT", "70000"), new String[0], "HTTP_PORT"),
        new Case(Map.of(), new String[] {"--roles=gateway,teleporter"}, "ROLES"),
        new Case(Map.of("DATABASE_URL", "postgres://u:p@127.0.0.1:1/nothing"), new String[0], "DATABASE_URL"));
    int i = 0;
    for (Case c : cases) {
      Path caseDir = Files.createDirectories(dir.resolve("case" + i++));
      Process p = launch(caseDir, c.env(), c.args());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(c.key()).isEqualTo(2);
      List<String> lines = stderr(caseDir).lines()
          .filter(l -> l.startsWith("deepchat:")).toList();
      assertThat(lines).as(stderr(caseDir)).hasSize(1);
      assertThat(lines.get(0)).contains(c.key());
      assertThat(stderr(caseDir)).doesNotContain("\tat ");
    }
  }

  @Test
  void sigtermStopsCleanlyAndARestartKeepsTheData(@TempDir Path dir) throws Exception {
    int port = NodeLifecycleTest.freePort();
    try {
      for (int run = 0; run < 2; run++) {
        Process p = launch(dir, demoEnv(port));
        NodeProcess.awaitReady(p, "node", "127.0.0.1", port, Duration.ofSeconds(90), () -> "");
        // readiness can say UP a moment before the launcher has its drain hook; the banner comes after it
        awaitOutput(dir, run == 0 ? "reset-password" : "DeepChat is running");
        if (run == 0) {
          try {
            firstStartEndsWithTheBannerAndWarnsOfNothing(dir, port);
          } catch (AssertionError | Exception e) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // not left running on the test's data
            throw e;
          }
        }
        stopCleanly(p, dir);
        assertThat(portFree(port)).as("port released").isTrue();
      }
      String out = Files.readString(dir.resolve("stdout.log"));
      assertThat(out).contains("DeepChat is running").doesNotContain("Demo tenant created");
      // second run: the demo tenant existed, so no seed announcement and no migration
      assertThat(stderr(dir)).doesNotContain("applied");
    } finally {
      stopPostgresLeftBy(dir);
    }
  }

  /**
   * SIGTERM the moment the HTTP port opens: readiness may already say UP while the launcher has not yet
   * registered the hook that drains and then stops PostgreSQL. Whichever hook runs, PostgreSQL stops with
   * the process (it used to keep running, and the next start failed on the data directory it held).
   */
  @Test
  void sigtermWhileStartingLeavesNoPostgresBehind(@TempDir Path dir) throws Exception {
    int port = NodeLifecycleTest.freePort();
    try {
      Process p = launch(dir, demoEnv(port));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (portFree(port)) {
        assertThat(p.isAlive()).as("process alive").isTrue();
        assertThat(System.nanoTime()).as("HTTP port opened").isLessThan(deadline);
        Thread.sleep(5);
      }
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
      assertThat(dir.resolve("postgres/postmaster.pid")).as(stderr(dir)).doesNotExist();

      Process again = launch(dir, demoEnv(port));
      NodeProcess.awaitReady(again, "node", "127.0.0.1", port, Duration.ofSeconds(90), () -> "");
      stopCleanly(again, dir);
    } finally {
      stopPostgresLeftBy(dir);
    }
  }

  /**
   * A node killed outright (SIGKILL) cannot stop its PostgreSQL, which pg_ctl detached from it: it runs
   * on, holding the data directory. The next node on that directory stops it cleanly and starts its own.
   */
  @Test
  void aNodeStartsAfterItsPredecessorWasKilled(@TempDir Path dir) throws Exception {
    int port = NodeLifecycleTest.freePort();
    try {
      Process killed = launch(dir, demoEnv(port));
      NodeProcess.awaitReady(killed, "node", "127.0.0.1", port, Duration.ofSeconds(90), () -> "");
      killed.destroyForcibly(); // SIGKILL: no hook runs
      assertThat(killed.waitFor(60, TimeUnit.SECONDS)).isTrue();
      ProcessHandle orphan = postmaster(dir).orElseThrow(() -> new AssertionError("no postmaster left running"));

      Process next = launch(dir, demoEnv(port));
      NodeProcess.awaitReady(next, "node", "127.0.0.1", port, Duration.ofSeconds(90), () -> "");
      assertThat(orphan.isAlive()).as("the old postmaster was stopped").isFalse();
      assertThat(stderr(dir)).contains("still running on");
      stopCleanly(next, dir);
      assertThat(stderr(dir)).as("the demo data survived").doesNotContain("applied");
    } finally {
      stopPostgresLeftBy(dir);
    }
  }

  /**
   * A newcomer's first start: the banner (URLs, then the demo credentials) is the last thing printed, and
   * a CPU-only host answering its first chat logs no warning (CUDA probes, duplicate gauges, tokenizer
   * defaults): the API key of the banner asks a FAQ question, which runs the embedding model.
   */
  private static void firstStartEndsWithTheBannerAndWarnsOfNothing(Path dir, int port) throws Exception {
    List<String> out = Files.readString(dir.resolve("stdout.log")).lines().filter(l -> !l.isBlank()).toList();
    int banner = out.indexOf(out.stream().filter(l -> l.startsWith("DeepChat is running")).findFirst().orElseThrow());
    assertThat(out.subList(banner, out.size())).as("the banner is last")
        .anyMatch(l -> l.contains("/console"))
        .anyMatch(l -> l.contains("console login:  admin@demo.local / (ADMIN_PASSWORD)"))
        .anyMatch(l -> l.contains("./dev reset-password demo admin@demo.local"));
    assertThat(out.get(out.size() - 1)).contains("reset-password");
    String apiKey = out.stream().filter(l -> l.contains("API key:")).findFirst().orElseThrow()
        .replaceAll(".*API key:\\s*", "");
    HttpResponse<String> answer = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
            .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"deepseek-chat\", \"messages\": "
                + "[{\"role\": \"user\", \"content\": \"How do I reset my password?\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    // (a blocked event loop is reported when the test machine is overloaded: a fact about the host)
    assertThat(stderr(dir).lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
        .filter(l -> !l.contains("BlockedThreadChecker")).toList())
        .as("warnings of a healthy first start").isEmpty();
  }

  private static void awaitOutput(Path dir, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.readString(dir.resolve("stdout.log")).contains(text) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private static Map<String, String> demoEnv(int port) {
    return Map.of("HTTP_PORT", String.valueOf(port), "HTTP_HOST", "127.0.0.1",
        "ADMIN_PASSWORD", "a-long-demo-password");
  }

  /** SIGTERM, then a drained exit (status 0) once the node's PostgreSQL has exited too. */
  private static void stopCleanly(Process p, Path dir) throws Exception {
    p.destroy();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
    assertThat(p.exitValue()).as(stderr(dir)).isZero();
    // the node waited for its PostgreSQL to exit: the next start can take the data directory at once
    assertThat(dir.resolve("postgres/postmaster.pid")).doesNotExist();
  }

  private static Optional<ProcessHandle> postmaster(Path dir) throws IOException {
    Path pidFile = dir.resolve("postgres/postmaster.pid");
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    return ProcessHandle.of(Long.parseLong(Files.readAllLines(pidFile).get(0).trim())).filter(ProcessHandle::isAlive);
  }

  /** A failed test must not leave a PostgreSQL running on a deleted directory. */
  static void stopPostgresLeftBy(Path dir) throws Exception {
    Optional<ProcessHandle> left = postmaster(dir);
    if (left.isPresent()) {
      left.get().destroy();
      left.get().onExit().get(30, TimeUnit.SECONDS);
    }
  }

  private static boolean portFree(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return false;
    } catch (IOException refused) {
      return true;
    }
  }
}
