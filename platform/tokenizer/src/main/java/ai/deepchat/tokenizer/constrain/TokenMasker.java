package ai.deepchat.tokenizer.constrain;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The tokens an automaton state allows, as a bitmask over the model's vocabulary. A mask is computed
 * by walking the sorted vocabulary once (shared prefixes walked once, refused subtrees skipped; in a
 * free string only the few non-plain tokens are walked) and cached per state (bounded by
 * {@link #CACHE_BYTES}), so the steps of a generation mostly look a mask up. Near the end of
 * max_tokens a mask is narrowed from the cached one, never walked again: the mask keeps the tokens
 * whose completion needs more than the fewest, with that need. One per vocabulary; thread-safe.
 */
public final class TokenMasker {
  /** Masks are vocab/8 bytes (16 KB for DeepSeek) plus 8 bytes per costly token: about 1,500 masks. */
  static final long CACHE_BYTES = 24L << 20;

  private final TokenVocabulary vocab;
  private final Cache<State, Mask> cache = Caffeine.newBuilder().maximumWeight(CACHE_BYTES)
      .weigher((State s, Mask m) -> 8 * (m.bits.length + m.costly.length) + 64).build();

  /**
   * {@code minAfter}/{@code maxAfter}: the smallest and largest minRemaining of a state an allowed
   * token leads to; {@code group}: tokens allowed as a whole without a walk (the plain tokens in a
   * string, the digit tokens in a number), all leading to states needing {@code groupAfter} (-1: no
   * group); {@code costly}: the other allowed tokens leading further than minAfter, as
   * (minRemaining << 32 | id).
   */
  record Mask(long[] bits, int minAfter, int maxAfter, long[] group, int groupAfter, long[] costly) {

    /** A copy of the tokens leading to states that need at most {@code budget} more. */
    long[] within(int budget) {
      if (maxAfter <= budget) {
        return bits.clone();
      }
      long[] out = new long[bits.length];
      if (budget < minAfter) {
        return out;
      }
      System.arraycopy(bits, 0, out, 0, bits.length);
      if (group != null && groupAfter > budget) {
        for (int w = 0; w < out.length; w++) {
          out[w] &= ~group[w];
        }
      }
      for (long e : costly) {
        if ((int) (e >>> 32) > budget) {
          out[(int) e >>> 6] &= ~(1L << (int) e);
        }
      }
      return out;
    }
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
    long[] bits = cached(s).within(left - 2);
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
    return cache.get(s, this::compute);
  }

  /** Walks the vocabulary from {@code s}: every token it allows, with the need of the state it leads to. */
  Mask compute(State s) {
    long[] bits = new long[TokenVocabulary.words(vocab.size)];
    long[] group = null;
    TokenVocabulary.Walk walk = vocab.all;
    int room = s.digitRoom();
    if (s.plainStable()) {
      walk = vocab.odd;
      group = vocab.plain; // a plain token leaves the state as it is
    } else if (room >= 0) {
      walk = vocab.nonDigit;
      group = room > 0 ? vocab.digitsUpTo[Math.min(room, vocab.digitsUpTo.length - 1)] : null;
    }
    int groupAfter = -1;
    if (group != null) {
      groupAfter = s.minRemaining(); // a group's token changes nothing the need depends on
      System.arraycopy(group, 0, bits, 0, bits.length);
    }
    Found found = new Found();
    walk(s, walk, bits, found);
    for (int m = 0; m < vocab.markerIds.length; m++) {
      int id = vocab.markerIds[m];
      State next = id < 0 ? null : s.step(Symbols.CALLS_BEGIN + m);
      if (next != null) {
        bits[id >>> 6] |= 1L << id;
        found.add(id, next.minRemaining());
      }
    }
    return found.mask(bits, group, groupAfter);
  }

  /**
   * The trie walk over sorted tokens: stack[d] is the state after the first d bytes of the current
   * token, valid up to {@code valid}; a refused byte at depth d jumps past every following token that
   * shares those d + 1 bytes (the token is the first of them; {@link TokenVocabulary.Walk#after}).
   */
  private void walk(State s, TokenVocabulary.Walk walk, long[] bits, Found found) {
    int[] ids = walk.ids();
    int[] lcp = walk.lcp();
    State[] stack = new State[64];
    stack[0] = s;
    int valid = 0;
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
        bits[ids[i] >>> 6] |= 1L << ids[i];
        found.add(ids[i], cur.minRemaining());
        i++;
        continue;
      }
      valid = d;
      i = walk.after(i, d);
    }
  }

  /** The allowed tokens of a walk as (minRemaining << 32 | id), in a growing buffer. */
  private static final class Found {
    private long[] buf = new long[256];
    private int n;

    void add(int id, int minRemaining) {
      if (n == buf.length) {
        buf = java.util.Arrays.copyOf(buf, n * 2);
      }
      buf[n++] = (long) minRemaining << 32 | id;
    }

    Mask mask(long[] bits, long[] group, int groupAfter) {
      int min = groupAfter >= 0 ? groupAfter : Integer.MAX_VALUE;
      int max = Math.max(groupAfter, 0);
      for (int k = 0; k < n; k++) {
        int m = (int) (buf[k] >>> 32);
        min = Math.min(min, m);
        max = Math.max(max, m);
      }
      if (min == Integer.MAX_VALUE) {
        min = 0;
      }
      int costly = 0;
      for (int k = 0; k < n; k++) {
        if ((int) (buf[k] >>> 32) > min) {
          buf[costly++] = buf[k];
        }
      }
      return new Mask(bits, min, max, group, groupAfter, java.util.Arrays.copyOf(buf, costly));
    }
  }
}
