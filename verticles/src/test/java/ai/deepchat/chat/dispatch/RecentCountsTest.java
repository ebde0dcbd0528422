package ai.deepchat.chat.dispatch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecentCountsTest {

  /** A tokenizer stand-in that says what it was asked to encode. */
  private static final class Spy implements TokenCounter {
    final List<String> encoded = new ArrayList<>();
    final int perChar;

    Spy(int perChar) {
      this.perChar = perChar;
    }

    @Override
    public int count(String text) {
      encoded.add(text);
      return text == null ? 0 : text.length() * perChar;
    }
  }

  private static final UUID ALPHA = UUID.randomUUID();
  private static final UUID BETA = UUID.randomUUID();

  @Test
  void aTenantsTextIsEncodedOnceAndTheSameCountComesBack() {
    Spy tokenizer = new Spy(1);
    TokenCounter alpha = new RecentCounts(tokenizer, RecentCounts.DEFAULT_MAX_CHARS).forTenant(ALPHA);
    assertThat(alpha.count("What are your opening hours?")).isEqualTo(28);
    // another String with the same text, as history read back from the database is
    assertThat(alpha.count(new String("What are your opening hours?".toCharArray()))).isEqualTo(28);
    assertThat(alpha.count("")).isZero();
    assertThat(alpha.count((String) null)).isZero();
    assertThat(tokenizer.encoded).containsExactly("What are your opening hours?");
  }

  /** What an event loop may ask: the counts already made, never the tokenizer. */
  @Test
  void theRememberedCountsAreTheTenantsOnlyAndNeverEncode() {
    Spy tokenizer = new Spy(1);
    RecentCounts counts = new RecentCounts(tokenizer, RecentCounts.DEFAULT_MAX_CHARS);
    counts.forTenant(ALPHA).count("hello there");
    TokenCounter alpha = counts.forTenant(ALPHA).remembered();
    assertThat(alpha.count(new String("hello there".toCharArray()))).isEqualTo(11);
    assertThat(alpha.count("")).isZero();
    assertThatThrownBy(() -> alpha.count("not yet")).isSameAs(TokenCounter.NotCounted.INSTANCE);
    assertThatThrownBy(() -> counts.forTenant(BETA).remembered().count("hello there"))
        .isSameAs(TokenCounter.NotCounted.INSTANCE);
    assertThat(tokenizer.encoded).containsExactly("hello there");
    assertThat(counts.remembered()).isNull();
    assertThat(new ApproxTokenCounter().forTenant(ALPHA).remembered()).isNull();
  }

  @Test
  void anotherTenantsTurnsAndTextsOfNoTenantAreEncodedAgain() {
    Spy tokenizer = new Spy(1);
    RecentCounts counts = new RecentCounts(tokenizer, RecentCounts.DEFAULT_MAX_CHARS);
    counts.forTenant(ALPHA).count("hello there");
    counts.forTenant(BETA).count("hello there");
    counts.count("hello there");
    assertThat(tokenizer.encoded).hasSize(3);
  }

  /** A node with another tokenizer has another memory: a count made by the old one is never read. */
  @Test
  void aNewTokenizerCountsAfresh() {
    RecentCounts before = new RecentCounts(new Spy(1), RecentCounts.DEFAULT_MAX_CHARS);
    assertThat(before.forTenant(ALPHA).count("abc")).isEqualTo(3);
    Spy other = new Spy(2);
    assertThat(new RecentCounts(other, RecentCounts.DEFAULT_MAX_CHARS).forTenant(ALPHA).count("abc")).isEqualTo(6);
    assertThat(other.encoded).containsExactly("abc");
  }

  @Test
  void holdsNoMoreCharactersThanItsBound() {
    Spy tokenizer = new Spy(1);
    RecentCounts counts = new RecentCounts(tokenizer, 10_000);
    TokenCounter alpha = counts.forTenant(ALPHA);
    for (int i = 0; i < 1_000; i++) {
      alpha.count("message " + i + " " + "x".repeat(200));
    }
    assertThat(counts.heldChars()).isPositive().isLessThanOrEqualTo(10_000);
    // what was let go is counted again, and counted right
    tokenizer.encoded.clear();
    String first = "message 0 " + "x".repeat(200);
    assertThat(alpha.count(first)).isEqualTo(first.length());
    assertThat(tokenizer.encoded).containsExactly(first);
  }
}
