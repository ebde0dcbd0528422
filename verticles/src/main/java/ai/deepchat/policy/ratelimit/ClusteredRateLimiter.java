package ai.deepchat.policy.ratelimit;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Buckets shared by every node through a Hazelcast map, each update an entry processor run on the
 * key's partition owner, so concurrent takes from different nodes never lose an update. Entries
 * expire after two idle minutes (a bucket idle that long is full again).
 *
 * <p>Approximate by design (see RELIABILITY.md): Hazelcast favours availability, so during a network
 * partition each side may grant a full bucket, and a migrating partition may briefly reset a bucket.
 * Nothing that is charged relies on this; charges come from PostgreSQL.
 */
public final class ClusteredRateLimiter implements RateLimiter {

  public static final String MAP_NAME = "deepchat.rate-limits";
  private static final long IDLE_SECONDS = 120;

  private final IMap<String, long[]> buckets;
  private final Clock clock;
  private final Vertx vertx;

  public ClusteredRateLimiter(Vertx vertx, HazelcastInstance hazelcast, Clock clock) {
    this.vertx = vertx;
    this.buckets = hazelcast.getMap(MAP_NAME);
    this.clock = clock;
  }

  @Override
  public Future<RateDecision> tryAcquire(String key, int perMinute) {
    Context context = vertx.getOrCreateContext();
    return Future.fromCompletionStage(buckets.submitToKey(key, new Take(perMinute, clock.millis())), context)
        .map(r -> r[0] == 1 ? RateDecision.allow(r[1]) : RateDecision.deny(r[1]));
  }

  /** Runs on the partition owner; result: {1, remaining} or {0, retryAfterSeconds}. */
  static final class Take implements EntryProcessor<String, long[], long[]> {
    private static final long serialVersionUID = 1L;
    private final int perMinute;
    private final long nowMillis;

    Take(int perMinute, long nowMillis) {
      this.perMinute = perMinute;
      this.nowMillis = nowMillis;
    }

    @Override
    public long[] process(Map.Entry<String, long[]> entry) {
      long[] state = entry.getValue() == null ? TokenBucket.full(perMinute, nowMillis) : entry.getValue().clone();
      RateDecision d = TokenBucket.take(state, perMinute, nowMillis);
      ((ExtendedMapEntry<String, long[]>) entry).setValue(state, IDLE_SECONDS, TimeUnit.SECONDS);
      return d.allowed() ? new long[] {1, d.remaining()} : new long[] {0, d.retryAfterSeconds()};
    }
  }
}
