package ai.deepchat.tokenizer.constrain;

import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.tokenizer.Golden;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * bench/constrain: microseconds per generated token to compute the allowed-token mask on the 129k
 * DeepSeek-V3 vocabulary, for three schemas, beside a naive peer in the same run (walk the automaton
 * for every token id at every step, no trie, no cache). Generations pick uniformly among the allowed
 * tokens (a worst case: long strings, every branch visited). Pass 1 starts with an empty mask cache
 * (the first requests with a schema), pass 2 reuses it (steady state). The peer runs on a sample of
 * the same steps and its masks must equal ours (budget filtering included).
 */
public final class MaskBench {
  static final int MODEL_VOCAB = 129_280;
  static final int EOS = 1;

  static final String FLAT = ConstrainedDecoderTest.FLAT;
  static final String NESTED = ConstrainedDecoderTest.NESTED;
  static final String WARM_UP = "{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\","
      + "\"properties\":{\"k\":{\"type\":[\"number\",\"boolean\"]}},\"required\":[\"k\"]}]}}";

  record Step(State state, int left) {
  }

  public static void main(String[] args) {
    int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int peerEvery = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int warmUpRounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    TokenVocabulary vocab = TokenVocabulary.load(Golden.deepSeekV3Dir().resolve("tokenizer.json"), MODEL_VOCAB);
    System.out.printf("constrained-decoding mask bench: vocabulary %d ids, %d tokens per schema and pass, "
        + "peer on every %dth step, %d warm-up rounds, one thread%n", vocab.size, tokens, peerEvery, warmUpRounds);
    // JIT warm-up on another schema, each round with an empty cache (a node that has served other
    // schemas), so pass 1 measures a cold mask cache, not a cold JVM
    for (int round = 0; round < warmUpRounds; round++) {
      run(new TokenMasker(vocab), Grammar.of(OutputConstraint.jsonSchema(WARM_UP)), tokens, new Random(round), null);
    }
    System.out.printf("%-12s %-8s %10s %10s %10s %8s%n", "schema", "pass", "p50 us", "p99 us", "max us", "steps");
    String[][] schemas = {{"flat", FLAT}, {"nested", NESTED}, {"json_object", null}};
    for (String[] s : schemas) {
      Grammar g = Grammar.of(s[1] == null ? OutputConstraint.jsonObject() : OutputConstraint.jsonSchema(s[1]));
      TokenMasker masker = new TokenMasker(vocab);
      List<Step> steps = new ArrayList<>();
      long[] first = run(masker, g, tokens, new Random(1), steps);
      long[] second = run(masker, g, tokens, new Random(2), null);
      long[] peer = peer(masker, steps, peerEvery);
      print(s[0], "1 (cold)", first);
      print(s[0], "2 (warm)", second);
      print(s[0], "naive", peer);
      System.out.printf("%-12s ratio naive/ours at p50: %.0fx (cold), %.0fx (warm); p99: %.0fx (cold), %.0fx (warm)%n",
          s[0], pct(peer, 50) / pct(first, 50), pct(peer, 50) / pct(second, 50),
          pct(peer, 99) / pct(first, 99), pct(peer, 99) / pct(second, 99));
    }
  }

  /** Generates until {@code tokens} tokens; returns nanoseconds per mask, records the steps when asked. */
  static long[] run(TokenMasker masker, Grammar g, int tokens, Random rnd, List<Step> steps) {
    long[] times = new long[tokens];
    int n = 0;
    int[] eos = {EOS};
    while (n < tokens) {
      int maxTokens = g.minTokens() + 20 + rnd.nextInt(200);
      State state = g.start();
      for (int gen = 0; gen < maxTokens && n < tokens; gen++) {
        int left = maxTokens - gen;
        long t0 = System.nanoTime();
        long[] mask = masker.allowed(state, left, eos);
        times[n++] = System.nanoTime() - t0;
        if (steps != null) {
          steps.add(new Step(state, left));
        }
        int pick = pick(mask, rnd);
        if (pick == EOS) {
          break;
        }
        state = masker.advance(state, pick);
      }
    }
    return times;
  }

  /** The naive peer on every {@code every}th recorded step; checks its mask equals ours. */
  static long[] peer(TokenMasker masker, List<Step> steps, int every) {
    TokenVocabulary v = masker.vocabulary();
    long[] times = new long[(steps.size() + every - 1) / every];
    int[] eos = {EOS};
    for (int i = 0, k = 0; i < steps.size(); i += every, k++) {
      Step st = steps.get(i);
      long t0 = System.nanoTime();
      long[] bits = new long[TokenVocabulary.words(v.size)];
      for (int id = 0; id < v.size; id++) {
        State next = masker.advance(st.state(), id);
        if (next != null && next.minRemaining() <= st.left() - 2) {
          bits[id >>> 6] |= 1L << id;
        }
      }
      if (st.state().accepting()) {
        bits[EOS >>> 6] |= 1L << EOS;
      }
      times[k] = System.nanoTime() - t0;
      if (!Arrays.equals(bits, masker.allowed(st.state(), st.left(), eos))) {
        throw new AssertionError("masks differ at step " + i + ": " + st.state());
      }
    }
    return times;
  }

  static int pick(long[] mask, Random rnd) {
    int count = 0;
    for (long w : mask) {
      count += Long.bitCount(w);
    }
    if ((mask[EOS >>> 6] & (1L << EOS)) != 0 && rnd.nextInt(8) == 0) {
      return EOS;
    }
    int k = rnd.nextInt(count);
    for (int w = 0; w < mask.length; w++) {
      int c = Long.bitCount(mask[w]);
      if (k < c) {
        long x = mask[w];
        for (int j = 0; j < k; j++) {
          x &= x - 1;
        }
        return (w << 6) + Long.numberOfTrailingZeros(x);
      }
      k -= c;
    }
    throw new IllegalStateException("empty mask");
  }

  static double pct(long[] nanos, int p) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)] / 1000.0;
  }

  static void print(String schema, String pass, long[] nanos) {
    System.out.printf("%-12s %-8s %10.1f %10.1f %10.1f %8d%n", schema, pass, pct(nanos, 50), pct(nanos, 99),
        pct(nanos, 100), nanos.length);
  }
}
