package ai.deepchat.canary.guard;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Which local model keys some engine worker serves right now, from the announcements workers publish
 * on {@link Addresses#ENGINE_ANNOUNCE}. An announcement is valid for {@code ttl}; a worker that stops
 * announcing (its node died, froze or left the cluster) drops out when it expires, and one that
 * announces {@code leaving} drops out at once.
 */
public final class LiveWorkers {

  private final Vertx vertx;
  private final long ttlNanos;
  private final LongSupplier nanoTime;
  /** model key → worker id → expiry (nanoTime). */
  private final Map<String, Map<String, Long>> workers = new ConcurrentHashMap<>();
  /** worker id → its latest announcement and when that expires: what the console lists. */
  private final Map<String, Seen> latest = new ConcurrentHashMap<>();

  private record Seen(WorkerAnnouncement announcement, long expiry) {
  }
  private MessageConsumer<WorkerAnnouncement> consumer;
  private long purgeTimer = -1;

  public LiveWorkers(Vertx vertx, Duration ttl, LongSupplier nanoTime) {
    this.vertx = vertx;
    this.ttlNanos = ttl.toNanos();
    this.nanoTime = nanoTime;
  }

  public LiveWorkers(Vertx vertx, Duration ttl) {
    this(vertx, ttl, System::nanoTime);
  }

  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(Addresses.ENGINE_ANNOUNCE, msg -> accept(msg.body()));
    purgeTimer = vertx.setPeriodic(Math.max(1000, ttlNanos / 1_000_000), id -> purge());
    return consumer.completion();
  }

  public void accept(WorkerAnnouncement a) {
    if (a == null || a.workerId() == null) {
      return;
    }
    long expiry = nanoTime.getAsLong() + ttlNanos;
    if (a.leaving()) {
      latest.remove(a.workerId());
    } else {
      latest.put(a.workerId(), new Seen(a, expiry));
    }
    // a worker that stops serving a key is dropped from that key on its next announcement
    workers.forEach((key, byWorker) -> {
      if (a.leaving() || a.modelKeys() == null || !a.modelKeys().contains(key)) {
        byWorker.remove(a.workerId());
      }
    });
    if (!a.leaving() && a.modelKeys() != null) {
      for (String key : a.modelKeys()) {
        workers.compute(key, (k, byWorker) -> {
          Map<String, Long> m = byWorker == null ? new ConcurrentHashMap<>() : byWorker;
          m.put(a.workerId(), expiry);
          return m;
        });
      }
    }
  }

  /** True when at least one worker announced {@code modelKey} within the ttl. */
  public boolean serves(String modelKey) {
    Map<String, Long> byWorker = workers.get(modelKey);
    if (byWorker == null) {
      return false;
    }
    long now = nanoTime.getAsLong();
    return byWorker.values().stream().anyMatch(expiry -> expiry - now > 0);
  }

  public Set<String> liveModelKeys() {
    Set<String> keys = new TreeSet<>();
    workers.keySet().forEach(k -> {
      if (serves(k)) {
        keys.add(k);
      }
    });
    return keys;
  }

  /** The latest announcement of every live worker (any node of the cluster), by node, then model keys. */
  public List<WorkerAnnouncement> workers() {
    long now = nanoTime.getAsLong();
    return latest.values().stream().filter(s -> s.expiry() - now > 0).map(Seen::announcement)
        .sorted(Comparator.comparing((WorkerAnnouncement a) -> String.valueOf(a.nodeId()))
            .thenComparing(a -> String.valueOf(a.modelKeys())).thenComparing(WorkerAnnouncement::workerId))
        .toList();
  }

  private void purge() {
    long now = nanoTime.getAsLong();
    latest.values().removeIf(s -> s.expiry() - now <= 0);
    // per key atomically, so an announcement arriving meanwhile is never dropped with an emptied map
    for (String key : Set.copyOf(workers.keySet())) {
      workers.computeIfPresent(key, (k, byWorker) -> {
        byWorker.values().removeIf(expiry -> expiry - now <= 0);
        return byWorker.isEmpty() ? null : byWorker;
      });
    }
  }

  public Future<Void> close() {
    if (purgeTimer >= 0) {
      vertx.cancelTimer(purgeTimer);
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
