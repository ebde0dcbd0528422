package ai.deepchat.policy.ratelimit;

import ai.deepchat.policy.MutableClock;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class LocalRateLimiterTest {

  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @Test
  void bucketEmptiesThenRefillsWithTime() {
    LocalRateLimiter limiter = new LocalRateLimiter(clock, 1000);
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.acquire("t:a", 3)).extracting(RateDecision::allowed, RateDecision::remaining)
          .containsExactly(true, (long) (2 - i));
    }
    RateDecision denied = limiter.acquire("t:a", 3);
    assertThat(denied.allowed()).isFalse();
    // 3 per minute: one token every 20 s
    assertThat(denied.retryAfterSeconds()).isEqualTo(20);
    clock.advance(Duration.ofSeconds(15));
    assertThat(limiter.acquire("t:a", 3).retryAfterSeconds()).isEqualTo(5);
    clock.advance(Duration.ofSeconds(5));
    assertThat(limiter.acquire("t:a", 3).allowed()).isTrue();
    assertThat(limiter.acquire("t:a", 3).allowed()).isFalse();
  }

  @Test
  void retryAfterRoundsUpToWholeSeconds() {
    LocalRateLimiter limiter = new LocalRateLimiter(clock, 1000);
    for (int i = 0; i < 7; i++) {
      limiter.acquire("k", 7);
    }
    // 60/7 = 8.57 s per token
    assertThat(limiter.acquire("k", 7).retryAfterSeconds()).isEqualTo(9);
    clock.advance(Duration.ofMillis(8_000));
    assertThat(limiter.acquire("k", 7).retryAfterSeconds()).isEqualTo(1);
  }

  @Test
  void keysAreIndependent() {
    LocalRateLimiter limiter = new LocalRateLimiter(clock, 1000);
    assertThat(limiter.acquire("v:a", 1).allowed()).isTrue();
    assertThat(limiter.acquire("v:a", 1).allowed()).isFalse();
    assertThat(limiter.acquire("v:b", 1).allowed()).isTrue();
  }

  @Test
  void mapStaysBoundedAndDropsIdleBuckets() {
    LocalRateLimiter limiter = new LocalRateLimiter(clock, 100);
    for (int i = 0; i < 1000; i++) {
      limiter.acquire("v:" + i, 5);
    }
    assertThat(limiter.size()).isEqualTo(100);
    clock.advance(Duration.ofMinutes(3));
    limiter.acquire("v:new", 5);
    assertThat(limiter.size()).isEqualTo(1);
  }

  @Test
  void aLoweredLimitCapsAFullBucket() {
    LocalRateLimiter limiter = new LocalRateLimiter(clock, 100);
    limiter.acquire("t", 100);
    assertThat(limiter.acquire("t", 2).remaining()).isEqualTo(1);
    assertThat(limiter.acquire("t", 2).allowed()).isTrue();
    assertThat(limiter.acquire("t", 2).allowed()).isFalse();
  }
}
