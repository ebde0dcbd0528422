package ai.deepchat.bench;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The self-hosted node ({@link BenchNode}) as a child JVM on this class path: its output goes to a log
 * file, its {@code BENCH} lines are the answers to our commands.
 */
final class NodeProcess implements AutoCloseable {

  private final Process process;
  private final PrintWriter commands;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final JsonObject ready;

  NodeProcess(List<String> jvmOptions, Map<String, String> config, Path log) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchNode.class.getName());
    config.forEach((k, v) -> cmd.add(k + "=" + v));
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    Writer logFile = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
    Thread pump = new Thread(() -> pump(logFile), "bench-node-output");
    pump.setDaemon(true);
    pump.start();
    String line = answers.poll(240, TimeUnit.SECONDS);
    if (line == null || !line.startsWith("ready ")) {
      process.destroy();
      throw new IllegalStateException("the bench node did not start (see " + log + "): " + line);
    }
    ready = new JsonObject(line.substring("ready ".length()));
  }

  private void pump(Writer log) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
         log) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("BENCH ")) {
          answers.add(line.substring("BENCH ".length()));
        } else {
          log.write(line);
          log.write('\n');
          log.flush();
        }
      }
    } catch (IOException e) {
      // the node exited
    } finally {
      answers.add("exited");
    }
  }

  JsonObject ready() {
    return ready;
  }

  /** Heap bytes in use after a full GC in the node, and its resident set. */
  long[] heapAfterGc() throws InterruptedException {
    commands.println("heap");
    String line = answers.poll(60, TimeUnit.SECONDS);
    if (line == null || !line.startsWith("heap ")) {
      throw new IllegalStateException("the bench node did not report its heap: " + line);
    }
    String[] parts = line.split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
  }

  /** The soak's gauges (see {@link BenchNode}): heapBytes, dbConnections, busHandlers. */
  JsonObject gauges() throws InterruptedException {
    commands.println("gauges");
    String line = answers.poll(60, TimeUnit.SECONDS);
    if (line == null || !line.startsWith("gauges ")) {
      throw new IllegalStateException("the bench node did not report its gauges: " + line);
    }
    return new JsonObject(line.substring("gauges ".length()));
  }

  @Override
  public void close() throws InterruptedException {
    commands.println("quit");
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
