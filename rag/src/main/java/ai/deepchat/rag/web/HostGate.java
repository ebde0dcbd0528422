package ai.deepchat.rag.web;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * Politeness across every crawl of the node: at most {@code permits} requests in flight per host, whichever
 * source or tenant asks, others waiting their turn in order. Used from event loops only (one Vert.x
 * context per crawl may differ, so the state is guarded by the gate's monitor).
 */
public final class HostGate {

  private final int permits;
  private final Map<String, Integer> busy = new HashMap<>();
  private final Map<String, Queue<Promise<Void>>> waiting = new HashMap<>();

  public HostGate(int permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits must be at least 1");
    }
    this.permits = permits;
  }

  /** Completes when a request to {@code host} may start; call {@link #release} when it ends. */
  public synchronized Future<Void> acquire(String host) {
    int inUse = busy.getOrDefault(host, 0);
    if (inUse < permits) {
      busy.put(host, inUse + 1);
      return Future.succeededFuture();
    }
    Promise<Void> turn = Promise.promise();
    waiting.computeIfAbsent(host, h -> new ArrayDeque<>()).add(turn);
    return turn.future();
  }

  public void release(String host) {
    Promise<Void> next;
    synchronized (this) {
      Queue<Promise<Void>> queue = waiting.get(host);
      next = queue == null ? null : queue.poll();
      if (queue != null && queue.isEmpty()) {
        waiting.remove(host);
      }
      if (next == null) {
        int inUse = busy.getOrDefault(host, 1) - 1;
        if (inUse <= 0) {
          busy.remove(host);
        } else {
          busy.put(host, inUse);
        }
      }
    }
    if (next != null) {
      next.complete(); // the permit passes on as it is
    }
  }
}
