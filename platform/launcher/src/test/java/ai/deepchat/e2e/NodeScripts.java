package ai.deepchat.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Node.js scripts run by the end-to-end tests: their npm dependencies installed from the lock file
 * ({@code npm ci}) when missing, then run with their output on this test's standard output.
 */
final class NodeScripts {

  private NodeScripts() {
  }

  /** Whether {@code node} and {@code npm} are on the PATH. */
  static boolean available() {
    return onPath("node") && onPath("npm");
  }

  /** Runs {@code npm ci} in {@code dir} unless {@code marker} (a path under it) already exists. */
  static void installUnless(Path dir, Path marker) throws Exception {
    if (!Files.exists(dir.resolve(marker))) {
      install(dir);
    }
  }

  /** Installs exactly what {@code dir}'s package-lock.json names, replacing its node_modules. */
  static void install(Path dir) throws Exception {
    int rc = run(dir, List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300);
    if (rc != 0) {
      throw new AssertionError("npm ci in " + dir + " exited " + rc);
    }
  }

  /** Runs {@code command} in {@code dir} with {@code env} added; its exit status. */
  static int run(Path dir, List<String> command, Map<String, String> env, int timeoutSeconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(dir.toFile())
        .redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    Thread pump = new Thread(() -> {
      try (var in = p.getInputStream()) {
        in.transferTo(System.out);
      } catch (IOException ignored) {
        // the process ended
      }
    });
    pump.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command + " timed out after " + timeoutSeconds + " s");
    }
    pump.join(5000);
    return p.exitValue();
  }

  private static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
