package ai.deepchat.chat.intent;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BoundedRegexTest {

  @Test
  void matchesOrdinaryPatternsCaseInsensitively() {
    assertThat(BoundedRegex.find(BoundedRegex.compile("order\\s*#?\\d+").orElseThrow(), "Where is ORDER #123?")).isTrue();
    assertThat(BoundedRegex.find(BoundedRegex.compile("refund").orElseThrow(), "shipping time")).isFalse();
    assertThat(BoundedRegex.compile("(unclosed")).isEmpty();
  }

  @Test
  void givesUpOnCatastrophicBacktracking() {
    var evil = BoundedRegex.compile("(a+)+$").orElseThrow();
    long start = System.nanoTime();
    assertThat(BoundedRegex.find(evil, "a".repeat(40) + "!")).isFalse();
    // without the budget this input takes minutes; with it, a bounded amount of work
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
  }
}
