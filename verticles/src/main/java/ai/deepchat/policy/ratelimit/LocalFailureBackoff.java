package ai.deepchat.policy.ratelimit;

import io.vertx.core.Future;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * In-JVM back-off for a single node: a map bounded to {@code maxEntries} (least recently used out),
 * entries dropped once forgotten.
 */
final class LocalFailureBackoff implements FailureBackoff {

  private final Clock clock;
  private final LinkedHashMap<String, long[]> entries;

  public LocalFailureBackoff(Clock clock, int maxEntries) {
    this.clock = clock;
    this.entries = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
        return size() > maxEntries || Backoff.forgotten(eldest.getValue(), clock.millis());
      }
    };
  }

  @Override
  public Future<Long> retryAfterSeconds(String key) {
    synchronized (entries) {
      return Future.succeededFuture(Backoff.waitSeconds(entries.get(key), clock.millis()));
    }
  }

  @Override
  public Future<Delay> fail(String key) {
    synchronized (entries) {
      return Future.succeededFuture(Backoff.fail(entries.computeIfAbsent(key, k -> Backoff.fresh(clock.millis())), clock.millis()));
    }
  }

  @Override
  public Future<Void> clear(String key) {
    synchronized (entries) {
      entries.remove(key);
    }
    return Future.succeededFuture();
  }
}
