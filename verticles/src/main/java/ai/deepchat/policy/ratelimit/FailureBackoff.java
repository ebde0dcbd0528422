package ai.deepchat.policy.ratelimit;

import io.vertx.core.Future;

/**
 * Failures counted by key (a sign-in: account and client address), each past the first few making the
 * key wait twice as long as the one before; see {@link Backoff}. Entries are forgotten an hour after
 * their last failure, so the store stays bounded.
 */
public interface FailureBackoff {

  /** Failures that cost no wait (typos). */
  int FREE_FAILURES = 3;

  /** After a failure: how many failures the key has, and the seconds it must now wait (0: none). */
  record Delay(long failures, long retryAfterSeconds) {

    /** This failure is the one that made the key wait for the first time. */
    public boolean firstWait() {
      return failures == FREE_FAILURES + 1;
    }
  }

  /** Seconds the key must still wait before it may try again (0: it may now). */
  Future<Long> retryAfterSeconds(String key);

  /** Counts a failure of the key. */
  Future<Delay> fail(String key);

  /** Forgets the key's failures (after a success). */
  Future<Void> clear(String key);
}
