package ai.deepchat.rag.ingest;

import ai.deepchat.platform.concurrent.CallerContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Runs asynchronous jobs (one document's ingestion each) at most {@code workers} at a time, tenants
 * taking turns: each tenant has its own queue, and a free worker goes to the next tenant in
 * round-robin order that has a job it may start. With more than one worker, a tenant holds at most
 * {@code workers - 1} of them, so one tenant's large uploads never leave another tenant waiting for
 * them. Jobs with the same key (the document) run one after another in submission order.
 */
final class TenantFairQueue {

  private record Job<T>(UUID tenant, Object key, Supplier<Future<T>> task, Promise<T> done) {
  }

  private final int workers;
  private final int perTenant;
  private final Map<UUID, Deque<Job<?>>> waiting = new LinkedHashMap<>(); // iteration order = turn order
  private final Map<UUID, Integer> runningPerTenant = new HashMap<>();
  private final Set<Object> runningKeys = new HashSet<>();
  private int running;

  TenantFairQueue(int workers) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1");
    }
    this.workers = workers;
    this.perTenant = workers == 1 ? 1 : workers - 1;
  }

  /** Queues {@code task}; the future completes, on the caller's context, with the task's outcome. */
  <T> Future<T> submit(UUID tenant, Object key, Supplier<Future<T>> task) {
    Promise<T> done = Promise.promise();
    synchronized (this) {
      waiting.computeIfAbsent(tenant, t -> new ArrayDeque<>()).add(new Job<>(tenant, key, task, done));
    }
    startWhatMay();
    return CallerContext.bind(done.future());
  }

  /** Jobs waiting or running, for tests and metrics. */
  synchronized int pending() {
    return running + waiting.values().stream().mapToInt(Deque::size).sum();
  }

  private void startWhatMay() {
    List<Job<?>> starting = new ArrayList<>();
    synchronized (this) {
      Job<?> job;
      while (running < workers && (job = next()) != null) {
        running++;
        runningPerTenant.merge(job.tenant(), 1, Integer::sum);
        runningKeys.add(job.key());
        starting.add(job);
      }
    }
    starting.forEach(this::start); // outside the lock: a task may complete at once and come back here
  }

  private <T> void start(Job<T> job) {
    Future<T> outcome;
    try {
      outcome = job.task().get();
    } catch (RuntimeException e) {
      outcome = Future.failedFuture(e);
    }
    outcome.onComplete(result -> {
      synchronized (this) {
        running--;
        runningPerTenant.computeIfPresent(job.tenant(), (t, n) -> n == 1 ? null : n - 1);
        runningKeys.remove(job.key());
      }
      startWhatMay();
      job.done().handle(result);
    });
  }

  // The first tenant in turn order with a job it may start; that tenant then goes to the back.
  private Job<?> next() {
    for (Iterator<Map.Entry<UUID, Deque<Job<?>>>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<UUID, Deque<Job<?>>> entry = it.next();
      if (runningPerTenant.getOrDefault(entry.getKey(), 0) >= perTenant) {
        continue;
      }
      Job<?> job = startable(entry.getValue());
      if (job != null) {
        it.remove();
        if (!entry.getValue().isEmpty()) {
          waiting.put(entry.getKey(), entry.getValue());
        }
        return job;
      }
    }
    return null;
  }

  // The oldest job whose key is idle and not behind an older job of the same key.
  private Job<?> startable(Deque<Job<?>> queue) {
    Set<Object> passed = new HashSet<>();
    for (Iterator<Job<?>> it = queue.iterator(); it.hasNext(); ) {
      Job<?> job = it.next();
      if (passed.add(job.key()) && !runningKeys.contains(job.key())) {
        it.remove();
        return job;
      }
    }
    return null;
  }
}
