package ai.deepchat.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.ServerSocket;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One platform node as a real JVM process on loopback, started with this test JVM's class path, its
 * output in {@code log}. Stopped with SIGTERM or SIGKILL like an operator or a crash would. A node may
 * also answer commands: lines it prints starting with {@value #ANSWER} are kept for {@link #answer}
 * rather than logged, and {@link #send} writes to its standard input (the bench node's protocol).
 */
public final class NodeProcess implements AutoCloseable {

  /** The prefix of a line that answers a command. */
  public static final String ANSWER = "BENCH ";

  public final String name;
  /** Where the test reaches the node's HTTP port. */
  public final String host;
  /** 0 when the node picks its own port (it then says which in an answer). */
  public final int httpPort;
  public final Path log;
  private final Process process;
  private final PrintWriter commands;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final Thread pump;

  private NodeProcess(String name, String host, int httpPort, Path log, Process process) throws IOException {
    this.name = name;
    this.host = host;
    this.httpPort = httpPort;
    this.log = log;
    this.process = process;
    this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    Writer logFile = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
    this.pump = new Thread(() -> pump(logFile), name + "-output");
    pump.setDaemon(true);
    pump.start();
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts a node; {@code env} adds to a loopback-only base (no demo seed, no inherited ROLES/DATABASE_URL). */
  public static NodeProcess start(String name, Path dir, int httpPort, Map<String, String> env) throws IOException {
    return start(name, dir, "127.0.0.1", httpPort, env, List.of());
  }

  /**
   * Starts a node reached at {@code host}; {@code launcher} goes before the java command (e.g.
   * {@code ip netns exec NAME}, which execs java in place, so signals reach the JVM itself).
   */
  public static NodeProcess start(String name, Path dir, String host, int httpPort, Map<String, String> env,
                                  List<String> launcher) throws IOException {
    return start(name, dir, dir, host, httpPort, env, launcher);
  }

  /** As above, its log {@code <name>.log} in {@code logs} rather than in {@code dir} (its data stays there). */
  public static NodeProcess start(String name, Path dir, Path logs, String host, int httpPort, Map<String, String> env,
                                  List<String> launcher) throws IOException {
    List<String> cmd = new ArrayList<>(launcher);
    // C1 only: a node's start-up is mostly JIT work, and a failure test starts up to five at once on
    // two cores (half the CPU seconds to ready: docs/operations.md "Test suite time"); the model runs
    // in native code and no test here measures the node's steady-state speed (the bench node is
    // started with its own options, below)
    cmd.addAll(java(List.of("-Xmx512m", "-XX:TieredStopAtLevel=1"), Main.class));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.equals("DATABASE_URL") || k.equals("ROLES") || k.startsWith("CLUSTER"));
    Path data = Files.createDirectories(dir.resolve(name));
    pb.environment().putAll(Map.of("DATA_DIR", data.toString(), "HTTP_HOST", "127.0.0.1",
        "HTTP_PORT", String.valueOf(httpPort), "SEED_DEMO", "false"));
    pb.environment().putAll(env);
    Files.createDirectories(logs);
    return new NodeProcess(name, host, httpPort, logs.resolve(name + ".log"), pb.redirectErrorStream(true).start());
  }

  /** Starts {@code main} of this class path with {@code jvmOptions} and {@code args}, inheriting the environment. */
  public static NodeProcess start(String name, List<String> jvmOptions, Class<?> main, List<String> args, Path log)
      throws IOException {
    List<String> cmd = java(jvmOptions, main);
    cmd.addAll(args);
    return new NodeProcess(name, "127.0.0.1", 0, log, new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  private static List<String> java(List<String> jvmOptions, Class<?> main) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(hazelcastProperties());
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    return cmd;
  }

  /**
   * This JVM's {@code hazelcast.*} system properties as options for a node: the tests' Hazelcast
   * settings (the build's surefire configuration) hold in the nodes they start as in this JVM.
   */
  static List<String> hazelcastProperties() {
    return System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("hazelcast."))
        .sorted().map(k -> "-D" + k + "=" + System.getProperty(k)).toList();
  }

  private void pump(Writer logFile) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
         logFile) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith(ANSWER)) {
          answers.add(line.substring(ANSWER.length()));
        } else {
          logFile.write(line);
          logFile.write('\n');
          logFile.flush();
        }
      }
    } catch (IOException e) {
      // the node exited
    } finally {
      answers.add("exited");
    }
  }

  /** Writes one command line to the node's standard input. */
  public void send(String command) {
    commands.println(command);
  }

  /** The next answer without its prefix ("exited" once the node is gone), or null after {@code timeout}. */
  public String answer(Duration timeout) throws InterruptedException {
    return answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Waits for /health/ready = 200, failing early if the process dies. */
  public NodeProcess awaitReady(Duration timeout) throws Exception {
    awaitReady(process, name, host, httpPort, timeout, this::tail);
    return this;
  }

  /**
   * Waits for {@code process}'s /health/ready at {@code host:port} to answer 200, failing early (with
   * {@code log}) if it dies, for tests that start the node their own way.
   */
  public static void awaitReady(Process process, String name, String host, int port, Duration timeout,
                                Supplier<String> log) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + log.get());
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port
            + "/health/ready")).timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // starting
      }
      Thread.sleep(250);
    }
    throw new AssertionError(name + " not ready in " + timeout + ":\n" + log.get());
  }

  // through the ProcessHandle: Process.destroy also closes this side's pipes, and the pump would lose
  // what the node still prints (its drain and shutdown lines)
  public void sigterm() {
    process.toHandle().destroy();
  }

  public void sigkill() {
    process.toHandle().destroyForcibly();
  }

  /**
   * Waits for the process to exit and then for its last output to reach the log: the pump reads a
   * pipe that still holds lines when the process is gone, and callers read the log next.
   */
  public boolean awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return false;
    }
    pump.join(TimeUnit.SECONDS.toMillis(10));
    return true;
  }

  public boolean alive() {
    return process.isAlive();
  }

  public int exitValue() {
    return process.exitValue();
  }

  /** Freezes the JVM (SIGSTOP), like a long GC pause or a stalled VM; {@link #sigcont} resumes it. */
  public void sigstop() throws Exception {
    signal("STOP");
  }

  public void sigcont() throws Exception {
    signal("CONT");
  }

  private void signal(String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** The node's whole log. */
  public String output() throws IOException {
    return Files.readString(log);
  }

  public String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** SIGTERM, up to 60 s for the node to stop, then SIGKILL. */
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
