package ai.deepchat.tokenizer.constrain;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The tokens an automaton state allows, as a bitmask over the model's vocabulary. A mask is computed
 * by walking the sorted vocabulary once (shared prefixes walked once, refused subtrees skipped; in a
 * free string only the few non-plain tokens are walked) and cached per state (bounded by
 * {@link #CACHE_SIZE} masks of vocab/8 bytes each), so the steps of a generation mostly look a mask up.
 * One per vocabulary; thread-safe.
 */
public final class TokenMasker {
  static final int CACHE_SIZE = 1024;

  private final TokenVocabulary vocab;
  // keyed by a State (no budget) or a Budgeted (the last tokens of a generation, where the budget
  // prunes): a generation's end passes the same few (state, budget) pairs again and again
  private final Cache<Object, Mask> cache = Caffeine.newBuilder().maximumSize(CACHE_SIZE).build();

  private record Budgeted(State state, int budget) {
  }

  /** {@code maxAfter}: the largest minRemaining of a state an allowed token leads to. */
  record Mask(long[] bits, int maxAfter) {
  }

  public TokenMasker(TokenVocabulary vocab) {
    this.vocab = vocab;
  }

  public TokenVocabulary vocabulary() {
    return vocab;
  }

  /**
   * The tokens allowed in {@code s} when {@code left} tokens may still be generated (this one
   * included): a token only if the output can still be finished, end-of-sequence included, within
   * the rest; end-of-sequence ({@code eos}) only where the output may end.
   */
  long[] allowed(State s, int left, int[] eos) {
    Mask m = cached(s);
    long[] bits;
    if (m.maxAfter <= left - 2) {
      bits = m.bits.clone();
    } else {
      bits = cache.get(new Budgeted(s, left - 2), k -> compute(s, left - 2)).bits.clone();
    }
    if (s.accepting()) {
      for (int id : eos) {
        if (id >= 0 && id < vocab.size) {
          bits[id >>> 6] |= 1L << id;
        }
      }
    }
    return bits;
  }

  /** The state after token {@code id}, null when the state does not allow it (EOS is not stepped). */
  State advance(State s, int id) {
    if (id < 0 || id >= vocab.size) {
      return null;
    }
    for (int m = 0; m < vocab.markerIds.length; m++) {
      if (vocab.markerIds[m] == id) {
        return s.step(Symbols.CALLS_BEGIN + m);
      }
    }
    byte[] b = vocab.bytes[id];
    if (b == null) {
      return null;
    }
    State cur = s;
    for (int i = 0; i < b.length && cur != null; i++) {
      cur = cur.step(b[i] & 0xff);
    }
    return cur;
  }

  Mask cached(State s) {
    return cache.get(s, k -> compute(s, Integer.MAX_VALUE));
  }

  /** Walks the vocabulary from {@code s}; a token leading to a state needing more than {@code budget} is left out. */
  Mask compute(State s, int budget) {
    long[] bits = new long[TokenVocabulary.words(vocab.size)];
    int maxAfter = 0;
    TokenVocabulary.Walk walk = vocab.all;
    if (s.plainStable()) {
      walk = vocab.odd;
      int m = s.minRemaining();
      if (m <= budget) {
        System.arraycopy(vocab.plain, 0, bits, 0, bits.length);
        maxAfter = m;
      }
    }
    maxAfter = Math.max(maxAfter, walk(s, walk, bits, budget));
    for (int m = 0; m < vocab.markerIds.length; m++) {
      int id = vocab.markerIds[m];
      State next = id < 0 ? null : s.step(Symbols.CALLS_BEGIN + m);
      if (next != null && next.minRemaining() <= budget) {
        bits[id >>> 6] |= 1L << id;
        maxAfter = Math.max(maxAfter, next.minRemaining());
      }
    }
    return new Mask(bits, maxAfter);
  }

  /**
   * The trie walk over sorted tokens: stack[d] is the state after the first d bytes of the current
   * token, valid up to {@code valid}; a refused byte at depth d skips every following token that
   * shares those d + 1 bytes (by the first byte at once, deeper ones by their common prefixes).
   */
  private int walk(State s, TokenVocabulary.Walk walk, long[] bits, int budget) {
    int[] ids = walk.ids();
    int[] lcp = walk.lcp();
    State[] stack = new State[64];
    stack[0] = s;
    int valid = 0;
    int maxAfter = 0;
    int i = 0;
    while (i < ids.length) {
      byte[] b = vocab.bytes[ids[i]];
      if (b.length >= stack.length) {
        stack = java.util.Arrays.copyOf(stack, b.length * 2);
      }
      int d = Math.min(lcp[i], valid);
      State cur = stack[d];
      while (d < b.length) {
        cur = cur.step(b[d] & 0xff);
        if (cur == null) {
          break;
        }
        stack[++d] = cur;
      }
      if (cur != null) {
        valid = b.length;
        int m = cur.minRemaining();
        if (m <= budget) {
          bits[ids[i] >>> 6] |= 1L << ids[i];
          maxAfter = Math.max(maxAfter, m);
        }
        i++;
        continue;
      }
      valid = d;
      if (d == 0) {
        i = walk.firstStart()[(b[0] & 0xff) + 1];
        continue;
      }
      i++;
      while (i < ids.length && lcp[i] > d) {
        i++;
      }
    }
    return maxAfter;
  }
}
