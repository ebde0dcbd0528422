package ai.deepchat.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.RequestOptions;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * One user of the admin and history APIs in a closed loop (RELIABILITY scenario 2): GET requests taken
 * in turn from a list (model versions, rollouts, knowledge bases, a visitor's history...), a think
 * time, the next. Latency and errors (anything but 200, or no response) count inside the window of
 * the {@link Calls} they share.
 */
final class AdminPoller {

  /** What the pollers of one run saw inside its window. */
  static final class Calls {
    final Histogram latency = new Histogram();
    /** The same latencies by path, to tell which read is slow. */
    final Map<String, Histogram> byPath = new ConcurrentHashMap<>();
    final LongAdder count = new LongAdder();
    final ErrorTally errors = new ErrorTally();
    private volatile long from = Long.MAX_VALUE;
    private volatile long to = Long.MAX_VALUE;

    void window(long fromNanos, long toNanos) {
      from = fromNanos;
      to = toNanos;
    }

    private void record(String path, long sentAt, String error) {
      long now = System.nanoTime();
      if (now < from || now >= to) {
        return;
      }
      count.increment();
      latency.record(now - sentAt);
      byPath.computeIfAbsent(path, k -> new Histogram()).record(now - sentAt);
      if (error != null) {
        errors.add(error);
      }
    }

    long errorCount() {
      return errors.total();
    }

    Map<String, Long> errorsByCode() {
      return errors.byCode();
    }
  }

  private final Vertx vertx;
  private final HttpClient http;
  private final List<RequestOptions> requests;
  private final Calls calls;
  private final long thinkMs;
  private int next;
  private volatile boolean stopping;

  AdminPoller(Vertx vertx, HttpClient http, List<RequestOptions> requests, Calls calls, long thinkMs, int offset) {
    this.vertx = vertx;
    this.http = http;
    this.requests = requests;
    this.calls = calls;
    this.thinkMs = thinkMs;
    this.next = offset;
  }

  void start() {
    call();
  }

  void stop() {
    stopping = true;
  }

  private void call() {
    if (stopping) {
      return;
    }
    RequestOptions options = requests.get(next++ % requests.size());
    long sentAt = System.nanoTime();
    http.request(new RequestOptions(options))
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> resp.statusCode())))
        .onComplete(ar -> {
          String path = options.getURI().replaceAll("\\?.*", "");
          String error = ar.failed() ? "request:" + ar.cause().getClass().getSimpleName()
              : ar.result() == 200 ? null : path + ":" + ar.result();
          calls.record(path, sentAt, error);
          long think = Math.max(1, (long) (thinkMs * (0.5 + ThreadLocalRandom.current().nextDouble())));
          vertx.setTimer(think, t -> call());
        });
  }
}
