package ai.deepchat.tokenizer.constrain;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tokens an automaton state allows, as a bitmask over the model's vocabulary. A mask is computed
 * by walking the sorted vocabulary once (shared prefixes walked once, refused subtrees skipped; in a
 * free string only the few non-plain tokens are walked, in a number no digit-only token) and cached
 * per state (bounded by {@link #CACHE_BYTES}), so the steps of a generation mostly look a mask up.
 * A value inside a container is masked once for every container it appears in: the container's
 * mask is the value's (cached by the value's own state) plus a walk of the few token subtrees that
 * leave the value. Near the end of max_tokens a mask is narrowed from the cached one, never walked
 * again: the mask keeps each walked token with its need. One per vocabulary; thread-safe.
 */
public final class TokenMasker {
  /** Masks are vocab/8 bytes (16 KB for DeepSeek) plus 8 bytes per walked token: over 1,000 masks. */
  static final long CACHE_BYTES = 24L << 20;

  private final TokenVocabulary vocab;
  // maintenance on the calling thread: no hand-off to the common pool (a thread wake-up) on a miss
  private final Cache<State, Mask> cache = Caffeine.newBuilder().maximumWeight(CACHE_BYTES).executor(Runnable::run)
      .weigher((State s, Mask m) -> 8 * (m.bits.length + m.walked.length) + 32 * m.exits.size() + 64).build();

  /**
   * {@code minAfter}/{@code maxAfter}: the smallest and largest minRemaining of a state an allowed
   * token leads to; {@code group}: tokens allowed as a whole without a walk (the plain tokens in a
   * string, the digit tokens in a number), all leading to states needing {@code groupAfter} (-1: no
   * group); {@code walked}: the other allowed tokens as (minRemaining << 32 | id); {@code exits}: the
   * token subtrees that end this state's value (accepting, then refused) for a container to go on with.
   */
  record Mask(long[] bits, int minAfter, int maxAfter, long[] group, int groupAfter, long[] walked,
      List<Exit> exits) {

    /** A copy of the tokens leading to states that need at most {@code budget} more. */
    long[] within(int budget) {
      if (maxAfter <= budget) {
        return bits.clone();
      }
      long[] out = new long[bits.length];
      if (budget < minAfter) {
        return out;
      }
      if (group != null && groupAfter > budget) {
        for (int w = 0; w < out.length; w++) {
          out[w] = bits[w] & ~group[w];
        }
      } else {
        System.arraycopy(bits, 0, out, 0, bits.length);
      }
      for (long e : walked) {
        if ((int) (e >>> 32) > budget) {
          out[(int) e >>> 6] &= ~(1L << (int) e);
        }
      }
      return out;
    }
  }

  /**
   * The tokens {@code from} to {@code to} of {@code walk} leave the value at byte {@code depth}, where
   * it is {@code state} (accepting): neighbouring subtrees refused at one depth in one state are one.
   */
  record Exit(TokenVocabulary.Walk walk, int from, int to, int depth, State state) {
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
    State key = canonical(s);
    Mask m = cache.getIfPresent(key);
    if (m == null) { // not cache.get: a container's mask asks for its value's (no recursive computation)
      m = compute(key);
      cache.put(key, m);
    }
    return m;
  }

  /** The state with the same mask that the cache keeps: a number's room for digits capped (see State#withDigitRoom). */
  private State canonical(State s) {
    State inner = s.inner();
    if (inner != null) {
      State c = canonical(inner);
      return c == inner ? s : s.withInner(c);
    }
    return s.digitRoom() > vocab.digitLead ? s.withDigitRoom(vocab.digitLead) : s;
  }

  /** Every token {@code s} allows, with the need of the state it leads to. */
  Mask compute(State s) {
    long[] bits = new long[TokenVocabulary.words(vocab.size)];
    Found found = new Found(vocab.longest);
    long[] group = null;
    int groupAfter = -1;
    State inner = s.inner();
    if (inner != null) {
      Mask value = cached(inner);
      // the container adds the same to every need while its value goes on
      int extra = s.minRemaining() - inner.minRemaining();
      System.arraycopy(value.bits, 0, bits, 0, bits.length);
      for (long e : value.walked) {
        found.add((int) e, (int) (e >>> 32) + extra);
      }
      group = value.group;
      groupAfter = value.groupAfter < 0 ? -1 : value.groupAfter + extra;
      for (Exit x : value.exits) {
        walk(s.withInner(x.state()), x.walk(), x.from(), x.to(), x.depth(), bits, found);
      }
    } else {
      TokenVocabulary.Walk walk = vocab.all;
      int room = s.digitRoom();
      if (s.plainStable()) {
        walk = vocab.odd;
        group = vocab.plain; // a plain token leaves the state as it is
      } else if (room >= 0) {
        walk = vocab.nonDigit;
        group = room > 0 ? vocab.digitsUpTo[Math.min(room, vocab.digitsUpTo.length - 1)] : null;
      }
      if (group != null) {
        groupAfter = s.minRemaining(); // a group's token changes nothing the need depends on
        System.arraycopy(group, 0, bits, 0, bits.length);
      }
      walk(s, walk, 0, walk.ids().length, 0, bits, found);
    }
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
   * The trie walk over sorted tokens {@code from} to {@code to}, which share their first {@code base}
   * bytes, {@code s} being the state after them: stack[d] is the state after the first d bytes of the
   * current token, valid up to {@code valid}; a refused byte at depth d jumps past every following
   * token that shares those d + 1 bytes (the token is the first of them; {@link
   * TokenVocabulary.Walk#after}). Once a prefix reaches a plainStable state (a string body) a plain
   * rest is accepted without stepping it: it leaves the state as it is.
   */
  private void walk(State s, TokenVocabulary.Walk walk, int from, int to, int base, long[] bits, Found found) {
    int[] ids = walk.ids();
    int[] lcp = walk.lcp();
    byte[] text = walk.text();
    int[] offsets = walk.offsets();
    int[] plainFrom = walk.plainFrom();
    State[] stack = found.stack;
    byte[] plainAt = found.plainAt;
    stack[base] = s;
    plainAt[base] = 0;
    int valid = base;
    int i = from;
    while (i < to) {
      int at = offsets[i];
      int length = offsets[i + 1] - at;
      int d = Math.max(base, Math.min(lcp[i], valid));
      State cur = stack[d];
      while (true) {
        if (plainFrom[i] <= d && plainStable(stack, plainAt, d)) {
          break; // the rest is plain: the state stays stack[d]
        }
        if (d == length) {
          break;
        }
        cur = cur.step(text[at + d] & 0xff);
        if (cur == null) {
          break;
        }
        stack[++d] = cur;
        plainAt[d] = 0;
      }
      valid = d;
      if (cur != null) {
        int id = ids[i];
        bits[id >>> 6] |= 1L << id;
        found.add(id, cur.minRemaining());
        i++;
      } else {
        int next = walk.after(i, d);
        if (stack[d].accepting()) {
          found.exit(walk, i, next, d, stack[d]);
        }
        i = next;
      }
    }
  }

  private static boolean plainStable(State[] stack, byte[] plainAt, int d) {
    if (plainAt[d] == 0) {
      plainAt[d] = (byte) (stack[d].plainStable() ? 1 : 2);
    }
    return plainAt[d] == 1;
  }

  /**
   * The allowed tokens of a walk as (minRemaining << 32 | id), in a growing buffer, and its exits;
   * with the walk's stack, reused by the walks of one mask.
   */
  private static final class Found {
    private long[] buf = new long[256];
    private int n;
    final List<Exit> exits = new ArrayList<>();
    final State[] stack;
    final byte[] plainAt; // per depth: 0 not known yet, 1 plainStable, 2 not

    Found(int longest) {
      stack = new State[longest + 1];
      plainAt = new byte[longest + 1];
    }

    void exit(TokenVocabulary.Walk walk, int from, int to, int depth, State state) {
      Exit last = exits.isEmpty() ? null : exits.get(exits.size() - 1);
      if (last != null && last.walk() == walk && last.to() == from && last.depth() == depth && last.state().equals(state)) {
        exits.set(exits.size() - 1, new Exit(walk, last.from(), to, depth, last.state()));
      } else {
        exits.add(new Exit(walk, from, to, depth, state));
      }
    }

    void add(int id, int minRemaining) {
      if (n == buf.length) {
        buf = Arrays.copyOf(buf, n * 2);
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
      return new Mask(bits, min == Integer.MAX_VALUE ? 0 : min, max, group, groupAfter, Arrays.copyOf(buf, n),
          List.copyOf(exits));
    }
  }
}
