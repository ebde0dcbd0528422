package ai.deepchat.chat.dispatch;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.UUID;

/**
 * The token counts of texts a tenant's turns counted lately, so a turn encodes only its new text (#25): the
 * question is counted by the context check and again by the prompt, and every earlier message of a conversation
 * (the widget's history read back, the API caller's messages sent again) comes back turn after turn. A count is
 * a function of the text and the tokenizer alone, and this memory belongs to one counter, so a changed tokenizer
 * (a node started with another model) starts empty: nothing stale can be read. Kept per tenant (the key holds
 * it) so that one tenant's turns cannot time whether another's sent a text. Bounded by the characters held.
 */
public final class RecentCounts implements TokenCounter {

  /** About 16 MB of text at two bytes a character: the history of some thousands of live conversations. */
  public static final long DEFAULT_MAX_CHARS = 8L << 20;

  /** What an entry costs besides its characters (key, entry, boxed count), in characters. */
  private static final int ENTRY_CHARS = 64;

  private record Key(UUID tenant, String text) {
  }

  private final TokenCounter counter;
  private final Cache<Key, Integer> counts;

  public RecentCounts(TokenCounter counter, long maxChars) {
    this.counter = counter;
    // eviction on the calling thread (a tokenizer worker), as the response cache does: never on the common pool
    this.counts = Caffeine.newBuilder().maximumWeight(maxChars)
        .<Key, Integer>weigher((k, v) -> k.text().length() + ENTRY_CHARS)
        .executor(Runnable::run).build();
  }

  /** The characters (and entries' overhead) held now, after pending evictions. */
  long heldChars() {
    counts.cleanUp();
    return counts.policy().eviction().orElseThrow().weightedSize().orElseThrow();
  }

  /** Counted each time: text of no tenant is not remembered. */
  @Override
  public int count(String text) {
    return counter.count(text);
  }

  @Override
  public TokenCounter forTenant(UUID tenant) {
    return new TokenCounter() {
      @Override
      public int count(String text) {
        return text == null || text.isEmpty() ? 0 : counts.get(new Key(tenant, text), k -> counter.count(k.text()));
      }

      @Override
      public TokenCounter remembered() {
        return text -> {
          if (text == null || text.isEmpty()) {
            return 0;
          }
          Integer n = counts.getIfPresent(new Key(tenant, text));
          if (n == null) {
            throw NotCounted.INSTANCE;
          }
          return n;
        };
      }
    };
  }
}
