package ai.deepchat.policy.ratelimit;

/**
 * Token-bucket arithmetic shared by the local and the clustered limiter. A bucket holds up to
 * {@code perMinute} tokens (a full minute's burst) and refills continuously at {@code perMinute} per
 * minute. State is two longs, so it travels cheaply through Hazelcast: micro-tokens and the time of
 * the last refill in milliseconds.
 */
final class TokenBucket {

  static final long UNIT = 1_000_000L;
  private static final long FULL_REFILL_MS = 60_000L;

  private TokenBucket() {
  }

  static long[] full(int perMinute, long nowMillis) {
    return new long[] {perMinute * UNIT, nowMillis};
  }

  /** Refills, then takes one token if there is one; updates {@code state} in place. */
  static RateDecision take(long[] state, int perMinute, long nowMillis) {
    long capacity = perMinute * UNIT;
    // clocks of different nodes may disagree a little: never refill for negative time
    long elapsed = Math.max(0, nowMillis - state[1]);
    long tokens = state[0];
    if (elapsed > 0) {
      long refill = Math.min(elapsed, FULL_REFILL_MS * 2) * perMinute * UNIT / FULL_REFILL_MS;
      tokens = Math.min(capacity, tokens + refill);
      state[1] = Math.max(state[1], nowMillis);
    }
    if (tokens > capacity) {
      // the limit was lowered since the bucket was filled
      tokens = capacity;
    }
    if (tokens >= UNIT) {
      state[0] = tokens - UNIT;
      return RateDecision.allow(state[0] / UNIT);
    }
    state[0] = tokens;
    long missing = UNIT - tokens;
    long waitMs = (missing * FULL_REFILL_MS + perMinute * UNIT - 1) / (perMinute * UNIT);
    return RateDecision.deny((waitMs + 999) / 1000);
  }
}
