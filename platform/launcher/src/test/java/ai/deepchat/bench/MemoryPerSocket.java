package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.WebSocketClient;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static ai.deepchat.platform.testing.Await.await;

/**
 * Heap (after GC) and resident memory of the self-hosted node per open widget socket. Idle: {@code n}
 * sockets opened, no turn yet. In conversation: a first {@code n} sockets each take one turn, then a
 * second {@code n}; only the second round's growth is counted, because the first also raises
 * high-water marks that are not per socket (the engine's per-sequence buffers, allocator arenas, JIT
 * code). The node's heap is pre-touched, so resident growth is native memory.
 */
final class MemoryPerSocket {

  private final Vertx vertx;
  private final BenchNodeClient node;
  private final HttpClient http;
  private final WebSocketClient ws;
  private final String widgetKey;
  private final String origin;
  private final String message;
  private final boolean deflateOffered;
  private final Consumer<String> out;
  private final StepStats stats = new StepStats();

  MemoryPerSocket(Vertx vertx, BenchNodeClient node, HttpClient http, WebSocketClient ws, String widgetKey,
                  String origin, String message, boolean deflateOffered, Consumer<String> out) {
    this.vertx = vertx;
    this.node = node;
    this.http = http;
    this.ws = ws;
    this.widgetKey = widgetKey;
    this.origin = origin;
    this.message = message;
    this.deflateOffered = deflateOffered;
    this.out = out;
  }

  void measure(int n) throws Exception {
    long[] before = node.heapAfterGc();
    List<WidgetVisitor> first = openSockets(n);
    long[] idle = node.heapAfterGc();
    report(first.size() + " idle sockets", before, idle, first.size());
    turnEach(first);
    long[] oneRound = node.heapAfterGc();
    List<WidgetVisitor> second = openSockets(n);
    turnEach(second);
    long[] twoRounds = node.heapAfterGc();
    report(second.size() + " more sockets after one turn each", oneRound, twoRounds, second.size());
    out.accept("  (errors while measuring: " + stats.errorsByCode() + ")");
    first.forEach(WidgetVisitor::close);
    second.forEach(WidgetVisitor::close);
  }

  private List<WidgetVisitor> openSockets(int n) throws Exception {
    List<WidgetVisitor> sockets = new ArrayList<>();
    for (int i = 0; i < n; i += 100) {
      List<Future<?>> batch = new ArrayList<>();
      for (int j = i; j < Math.min(n, i + 100); j++) {
        WidgetVisitor v = new WidgetVisitor(vertx, stats, message, 0, http, ws, widgetKey, origin, 1);
        sockets.add(v);
        batch.add(v.open());
      }
      await(Future.join(batch));
    }
    sockets.removeIf(v -> v.finished().isComplete());
    return sockets;
  }

  /** One turn on every socket, 100 at a time. */
  private void turnEach(List<WidgetVisitor> sockets) throws Exception {
    for (int i = 0; i < sockets.size(); i += 100) {
      await(Future.join(sockets.subList(i, Math.min(sockets.size(), i + 100)).stream()
          .map(LoadClient::oneTurn).toList()));
    }
  }

  private void report(String what, long[] before, long[] after, long sockets) {
    out.accept(String.format("memory per open widget WebSocket, %s%s: heap %.1f KiB after GC, resident %.1f KiB"
            + " (node heap %d -> %d MiB, resident %d -> %d MiB)", what,
        deflateOffered ? " (permessage-deflate offered, as browsers do)" : "",
        (after[0] - before[0]) / 1024.0 / sockets, (after[1] - before[1]) / 1024.0 / sockets,
        before[0] >> 20, after[0] >> 20, before[1] >> 20, after[1] >> 20));
  }
}
