package ai.deepchat.policy.ratelimit;

import io.vertx.core.Future;

import java.time.Clock;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * In-JVM buckets for a single node. The map is bounded: buckets idle for two minutes are dropped
 * (a bucket idle that long is full again anyway, so dropping it changes nothing), and beyond
 * {@code maxBuckets} the least recently used one goes.
 */
public final class LocalRateLimiter implements RateLimiter {

  private static final long IDLE_MS = 120_000L;

  private final Clock clock;
  private final int maxBuckets;
  private final LinkedHashMap<String, long[]> buckets;
  private long lastSweep;

  public LocalRateLimiter(Clock clock, int maxBuckets) {
    this.clock = clock;
    this.maxBuckets = maxBuckets;
    this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
        return size() > LocalRateLimiter.this.maxBuckets;
      }
    };
  }

  @Override
  public Future<RateDecision> tryAcquire(String key, int perMinute) {
    return Future.succeededFuture(acquire(key, perMinute));
  }

  /** The same, synchronously (it never blocks for long: a map lookup under a lock). */
  public RateDecision acquire(String key, int perMinute) {
    long now = clock.millis();
    synchronized (buckets) {
      if (now - lastSweep > IDLE_MS) {
        sweep(now);
      }
      long[] state = buckets.computeIfAbsent(key, k -> TokenBucket.full(perMinute, now));
      return TokenBucket.take(state, perMinute, now);
    }
  }

  public int size() {
    synchronized (buckets) {
      return buckets.size();
    }
  }

  private void sweep(long now) {
    lastSweep = now;
    // access order: the eldest entries were used least recently
    Iterator<long[]> it = buckets.values().iterator();
    while (it.hasNext()) {
      if (now - it.next()[1] > IDLE_MS) {
        it.remove();
      } else {
        break;
      }
    }
  }
}
