package ai.deepchat.canary;

import ai.deepchat.canary.guard.Outcome;
import ai.deepchat.canary.guard.OutcomeWindow;
import ai.deepchat.canary.rollout.Buckets;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The bucket function is part of the stored state's meaning; the guard window's arithmetic. */
class BucketsAndWindowTest {

  @Test
  void bucketsAreFixedForGivenIds() {
    UUID rollout = UUID.fromString("6f1c1d4e-3b7a-4c59-9d3e-1f2a3b4c5d6e");
    UUID conversation = UUID.fromString("0b9e8f7a-6d5c-4b3a-9e8d-7c6b5a4f3e2d");
    int bucket = Buckets.of(rollout, conversation);
    // a change to the function would silently move live conversations between versions
    assertThat(bucket).isEqualTo(referenceBucket(rollout, conversation));
    assertThat(Buckets.of(rollout, conversation)).isEqualTo(bucket);
    assertThat(Buckets.of(UUID.randomUUID(), conversation)).isBetween(0, Buckets.COUNT - 1);
  }

  /** An independent computation: SHA-256 hex, first 16 hex digits as unsigned, mod 10,000. */
  private static int referenceBucket(UUID rollout, UUID conversation) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest((rollout + ":" + conversation).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String hex = java.util.HexFormat.of().formatHex(d).substring(0, 16);
      return new java.math.BigInteger(hex, 16).mod(java.math.BigInteger.valueOf(10_000)).intValue();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void windowCountsOnlyRecentOutcomesAndTakesNearestRankP95() {
    OutcomeWindow w = new OutcomeWindow(60_000, 1000);
    for (int i = 1; i <= 20; i++) {
      w.add(1_000, Outcome.success(i * 10L, 11, 1_000 + i * 10L));
    }
    w.add(1_000, Outcome.failure("boom", 5));
    OutcomeWindow.Stats s = w.stats(2_000, 60_000);
    assertThat(s.requests()).isEqualTo(21);
    assertThat(s.errors()).isEqualTo(1);
    assertThat(s.p95TtftMillis()).isEqualTo(190);
    assertThat(s.p50TtftMillis()).isEqualTo(100);
    // outside a shorter window, and after the retention, nothing counts
    assertThat(w.stats(40_000, 30_000).requests()).isZero();
    w.add(120_000, Outcome.success(5, 2, 10));
    assertThat(w.stats(120_000, 600_000).requests()).isEqualTo(1);
  }

  @Test
  void tokensPerSecondCountsDecodeTimeOnly() {
    assertThat(Outcome.success(200, 101, 1_200).tokensPerSecond()).isEqualTo(100.0);
    assertThat(Outcome.failure("x", 100).tokensPerSecond()).isEqualTo(-1);
  }
}
