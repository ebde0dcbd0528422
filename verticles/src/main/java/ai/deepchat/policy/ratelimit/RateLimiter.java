package ai.deepchat.policy.ratelimit;

import io.vertx.core.Future;

/**
 * Token buckets by key. Keys are built by {@link RequestLimits} and always start with the tenant, so
 * buckets of different tenants never mix.
 */
public interface RateLimiter {

  /** Takes one token from the bucket {@code key} that refills at {@code perMinute}. */
  Future<RateDecision> tryAcquire(String key, int perMinute);
}
