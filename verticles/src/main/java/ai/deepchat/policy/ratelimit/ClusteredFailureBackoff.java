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
 * Back-off shared by every node through a Hazelcast map, so moving between nodes does not reset an
 * attacker's wait; each failure is an entry processor on the key's partition owner, and entries expire
 * once forgotten. Approximate like the rate limits (see {@link ClusteredRateLimiter}).
 */
public final class ClusteredFailureBackoff implements FailureBackoff {

  public static final String MAP_NAME = "deepchat.failure-backoff";

  private final Vertx vertx;
  private final IMap<String, long[]> entries;
  private final Clock clock;

  public ClusteredFailureBackoff(Vertx vertx, HazelcastInstance hazelcast, Clock clock) {
    this.vertx = vertx;
    this.entries = hazelcast.getMap(MAP_NAME);
    this.clock = clock;
  }

  @Override
  public Future<Long> retryAfterSeconds(String key) {
    return Future.fromCompletionStage(entries.getAsync(key), context())
        .map(state -> Backoff.waitSeconds(state, clock.millis()));
  }

  @Override
  public Future<Delay> fail(String key) {
    return Future.fromCompletionStage(entries.submitToKey(key, new Fail(clock.millis())), context())
        .map(r -> new Delay(r[0], r[1]));
  }

  @Override
  public Future<Void> clear(String key) {
    return Future.fromCompletionStage(entries.removeAsync(key), context()).mapEmpty();
  }

  private Context context() {
    return vertx.getOrCreateContext();
  }

  /** Runs on the partition owner; result: {failures, retryAfterSeconds}. */
  static final class Fail implements EntryProcessor<String, long[], long[]> {
    private static final long serialVersionUID = 1L;
    private final long nowMillis;

    Fail(long nowMillis) {
      this.nowMillis = nowMillis;
    }

    @Override
    public long[] process(Map.Entry<String, long[]> entry) {
      long[] state = entry.getValue() == null ? Backoff.fresh(nowMillis) : entry.getValue().clone();
      Delay d = Backoff.fail(state, nowMillis);
      ((ExtendedMapEntry<String, long[]>) entry).setValue(state, Backoff.FORGET_MS / 1000, TimeUnit.SECONDS);
      return new long[] {d.failures(), d.retryAfterSeconds()};
    }
  }
}
