package ai.deepchat.failover;

import ai.deepchat.launcher.Main;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One platform node as a real JVM process on loopback, started with this test JVM's class path, its
 * output in {@code dir/<name>.log}. Stopped with SIGTERM or SIGKILL like an operator or a crash would.
 */
final class NodeProcess implements AutoCloseable {

  final String name;
  /** Where the test reaches the node's HTTP port. */
  final String host;
  final int httpPort;
  final Path log;
  private final Process process;

  private NodeProcess(String name, String host, int httpPort, Path log, Process process) {
    this.name = name;
    this.host = host;
    this.httpPort = httpPort;
    this.log = log;
    this.process = process;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts a node; {@code env} adds to a loopback-only base (no demo seed, no inherited ROLES/DATABASE_URL). */
  static NodeProcess start(String name, Path dir, int httpPort, Map<String, String> env) throws IOException {
    return start(name, dir, "127.0.0.1", httpPort, env, List.of());
  }

  /**
   * Starts a node reached at {@code host}; {@code launcher} goes before the java command (e.g.
   * {@code ip netns exec NAME}, which execs java in place, so signals reach the JVM itself).
   */
  static NodeProcess start(String name, Path dir, String host, int httpPort, Map<String, String> env,
                           List<String> launcher) throws IOException {
    List<String> cmd = new ArrayList<>(launcher);
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.equals("DATABASE_URL") || k.equals("ROLES") || k.startsWith("CLUSTER"));
    Path data = Files.createDirectories(dir.resolve(name));
    pb.environment().putAll(Map.of("DATA_DIR", data.toString(), "HTTP_HOST", "127.0.0.1",
        "HTTP_PORT", String.valueOf(httpPort), "SEED_DEMO", "false"));
    pb.environment().putAll(env);
    Path log = dir.resolve(name + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    return new NodeProcess(name, host, httpPort, log, pb.start());
  }

  /** Waits for /health/ready = 200, failing early if the process dies. */
  NodeProcess awaitReady(Duration timeout) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + tail());
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + httpPort
            + "/health/ready")).timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return this;
        }
      } catch (IOException notYet) {
        // starting
      }
      Thread.sleep(250);
    }
    throw new AssertionError(name + " not ready in " + timeout + ":\n" + tail());
  }

  void sigterm() {
    process.destroy();
  }

  void sigkill() {
    process.destroyForcibly();
  }

  boolean awaitExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  boolean alive() {
    return process.isAlive();
  }

  int exitValue() {
    return process.exitValue();
  }

  /** Freezes the JVM (SIGSTOP), like a long GC pause or a stalled VM; {@link #sigcont} resumes it. */
  void sigstop() throws Exception {
    signal("STOP");
  }

  void sigcont() throws Exception {
    signal("CONT");
  }

  private void signal(String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** The node's whole log. */
  String output() throws IOException {
    return Files.readString(log);
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
