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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    Map<String, String> env = Map.of("HTTP_PORT", String.valueOf(port), "HTTP_HOST", "127.0.0.1",
        "ADMIN_PASSWORD", "a-long-demo-password");
    for (int run = 0; run < 2; run++) {
      Process p = launch(dir, env);
      waitReady(port, p);
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
      assertThat(portFree(port)).as("port released").isTrue();
    }
    String out = Files.readString(dir.resolve("stdout.log"));
    assertThat(out).contains("DeepChat is running");
    // second run: the demo tenant existed, so no seed announcement and no migration
    assertThat(stderr(dir)).doesNotContain("applied");
  }

  private static void waitReady(int port, Process p) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      assertThat(p.isAlive()).as("process alive").isTrue();
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
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
