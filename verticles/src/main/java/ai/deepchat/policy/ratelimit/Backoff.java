package ai.deepchat.policy.ratelimit;

/**
 * Back-off arithmetic shared by the local and the clustered store: the first
 * {@link FailureBackoff#FREE_FAILURES} failures cost nothing (typos), each one after that blocks the key
 * for 1 s, 2 s, 4 s ... up to {@link #MAX_WAIT_MS}; a key without a failure for {@link #FORGET_MS} starts over. State is three
 * longs (failures, blocked until, last failure; milliseconds), cheap to ship through Hazelcast.
 */
final class Backoff {

  private static final int FREE_FAILURES = FailureBackoff.FREE_FAILURES;
  static final long FIRST_WAIT_MS = 1_000L;
  static final long MAX_WAIT_MS = 15 * 60_000L;
  static final long FORGET_MS = 60 * 60_000L;

  private Backoff() {
  }

  static long[] fresh(long nowMillis) {
    return new long[] {0, 0, nowMillis};
  }

  /** Counts one failure at {@code nowMillis}; updates {@code state} in place. */
  static FailureBackoff.Delay fail(long[] state, long nowMillis) {
    if (forgotten(state, nowMillis)) {
      state[0] = 0;
      state[1] = 0;
    }
    state[0]++;
    state[2] = nowMillis;
    if (state[0] > FREE_FAILURES) {
      long doublings = Math.min(30, state[0] - FREE_FAILURES - 1);
      state[1] = nowMillis + Math.min(MAX_WAIT_MS, FIRST_WAIT_MS << doublings);
    }
    return new FailureBackoff.Delay(state[0], waitSeconds(state, nowMillis));
  }

  /** Whole seconds until the key may try again (0: now). */
  static long waitSeconds(long[] state, long nowMillis) {
    if (state == null || forgotten(state, nowMillis) || state[1] <= nowMillis) {
      return 0;
    }
    return (state[1] - nowMillis + 999) / 1000;
  }

  static boolean forgotten(long[] state, long nowMillis) {
    return nowMillis - state[2] > FORGET_MS;
  }
}
