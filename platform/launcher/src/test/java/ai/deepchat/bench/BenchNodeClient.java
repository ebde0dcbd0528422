package ai.deepchat.bench;

import ai.deepchat.launcher.NodeProcess;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The self-hosted node ({@link BenchNode}) as a child {@link NodeProcess}, and our side of its stdin
 * protocol: its {@code BENCH} lines are the answers to our commands.
 */
final class BenchNodeClient implements AutoCloseable {

  private final NodeProcess process;
  private final JsonObject ready;

  BenchNodeClient(List<String> jvmOptions, Map<String, String> config, Path log) throws Exception {
    process = NodeProcess.start("bench-node", jvmOptions, BenchNode.class,
        config.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList(), log);
    String line = process.answer(Duration.ofSeconds(240));
    if (line == null || !line.startsWith("ready ")) {
      process.sigterm();
      throw new IllegalStateException("the bench node did not start (see " + log + "): " + line);
    }
    ready = new JsonObject(line.substring("ready ".length()));
  }

  JsonObject ready() {
    return ready;
  }

  /** Heap bytes in use after a full GC in the node, and its resident set. */
  long[] heapAfterGc() throws InterruptedException {
    String[] parts = ask("heap").split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
  }

  /** The soak's gauges (see {@link BenchNode}): heapBytes, dbConnections, busHandlers. */
  JsonObject gauges() throws InterruptedException {
    return new JsonObject(ask("gauges").substring("gauges ".length()));
  }

  /** Transactions committed in the node's database so far (PostgreSQL's count). */
  long commits() throws InterruptedException {
    return Long.parseLong(ask("commits").split(" ")[1]);
  }

  /** Sends {@code command} and returns the answer, which starts with the command's name. */
  private String ask(String command) throws InterruptedException {
    process.send(command);
    String line = process.answer(Duration.ofSeconds(60));
    if (line == null || !line.startsWith(command + " ")) {
      throw new IllegalStateException("the bench node did not answer " + command + ": " + line);
    }
    return line;
  }

  @Override
  public void close() throws InterruptedException {
    process.send("quit");
    if (!process.awaitExit(Duration.ofSeconds(60))) {
      process.close();
    }
  }
}
