package ai.deepchat.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
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
        stopCleanly(p, dir);
        assertThat(portFree(port)).as("port released").isTrue();
      }
      String out = Files.readString(dir.resolve("stdout.log"));
      assertThat(out).contains("DeepChat is running");
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
