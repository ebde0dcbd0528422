package ai.deepchat.gpu.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Log-probabilities through the real engine: the first greedy token's against log_softmax of HF's
 * reference logits (golden.json), every later one against log_softmax of the engine's own full
 * forward over the same tokens, and the top alternatives sorted with the greedy pick first.
 */
class EngineLogprobsTest {

  @BeforeAll
  static void nativeBuilt() {
    Fixtures.requireNative();
  }

  @Test
  void greedyLogprobsMatchTheReferenceLogSoftmax() throws Exception {
    JsonNode g = Fixtures.golden("tiny-deepseek-v3");
    int[] ids = Fixtures.ints(g.get("input_ids"));
    int[] greedy = Fixtures.ints(g.get("greedy_continuation"));
    try (Engine engine = Engine.load(Fixtures.model("tiny-deepseek-v3"), Fixtures.options())) {
      int vocab = engine.info().vocabSize();
      List<Integer> picked = new ArrayList<>();
      List<Logprobs> got = new ArrayList<>();
      TokenListener listener = new EngineGoldenTest.RecordingListener(new ArrayList<>()) {
        @Override
        public void onToken(int tokenId, Logprobs logprobs) {
          picked.add(tokenId);
          got.add(logprobs);
        }
      };
      Sequence seq = engine.start(ids, Sampling.greedy(greedy.length).withLogprobs(5), listener);
      assertThat(seq.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      assertThat(got).hasSize(greedy.length).doesNotContainNull();

      double[] reference = logSoftmax(g.get("logits_last"), vocab);
      Logprobs first = got.get(0);
      assertThat(picked.get(0)).isEqualTo(greedy[0]);
      assertThat((double) first.logprob()).isCloseTo(reference[greedy[0]], within(1e-3));
      for (int j = 0; j < 5; j++) {
        assertThat((double) first.topLogprobs()[j]).isCloseTo(reference[first.topIds()[j]], within(1e-3));
      }

      // later tokens: the engine's own forward over prompt + continuation, position by position
      int[] all = new int[ids.length + greedy.length - 1];
      System.arraycopy(ids, 0, all, 0, ids.length);
      System.arraycopy(greedy, 0, all, ids.length, greedy.length - 1);
      float[] rows = engine.forwardLogits(all, true);
      for (int t = 0; t < greedy.length; t++) {
        Logprobs lp = got.get(t);
        double[] row = logSoftmax(rows, (ids.length - 1 + t) * vocab, vocab);
        assertThat((double) lp.logprob()).as("token %d", t).isCloseTo(row[greedy[t]], within(1e-3));
        assertThat(lp.topIds()).hasSize(5);
        assertThat(lp.topIds()[0]).as("greedy pick is the best alternative").isEqualTo(greedy[t]);
        for (int j = 1; j < 5; j++) {
          assertThat(lp.topLogprobs()[j]).isLessThanOrEqualTo(lp.topLogprobs()[j - 1]);
        }
      }
    }
  }

  @Test
  void noLogprobsUnlessAsked() throws Exception {
    JsonNode g = Fixtures.golden("tiny-deepseek-v3");
    List<Logprobs> got = new ArrayList<>();
    List<Integer> plain = new ArrayList<>();
    try (Engine engine = Engine.load(Fixtures.model("tiny-deepseek-v3"), Fixtures.options())) {
      TokenListener listener = new EngineGoldenTest.RecordingListener(plain) {
        @Override
        public void onToken(int tokenId, Logprobs logprobs) {
          got.add(logprobs);
        }
      };
      engine.start(Fixtures.ints(g.get("input_ids")), Sampling.greedy(4), listener)
          .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    assertThat(got).isEmpty();
    assertThat(plain).hasSize(4);
  }

  private static double[] logSoftmax(JsonNode logits, int vocab) {
    float[] row = new float[vocab];
    for (int i = 0; i < vocab; i++) row[i] = (float) logits.get(i).asDouble();
    return logSoftmax(row, 0, vocab);
  }

  private static double[] logSoftmax(float[] logits, int offset, int vocab) {
    double m = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) m = Math.max(m, logits[offset + i]);
    double sum = 0;
    for (int i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - m);
    double lse = m + Math.log(sum);
    double[] out = new double[vocab];
    for (int i = 0; i < vocab; i++) out[i] = logits[offset + i] - lse;
    return out;
  }
}
