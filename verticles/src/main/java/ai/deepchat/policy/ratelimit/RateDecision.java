package ai.deepchat.policy.ratelimit;

/**
 * The answer of a rate limiter: allowed (with the whole tokens left), or denied with the seconds after
 * which one token will be there again (at least 1), for the Retry-After header.
 */
public record RateDecision(boolean allowed, long retryAfterSeconds, long remaining) {

  public static RateDecision allow(long remaining) {
    return new RateDecision(true, 0, remaining);
  }

  public static RateDecision deny(long retryAfterSeconds) {
    return new RateDecision(false, Math.max(1, retryAfterSeconds), 0);
  }
}
