package ai.deepchat.gpu.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The five HF reference models through JNI: logits, per-position argmax, greedy continuation. */
class EngineGoldenTest {

  @BeforeAll
  static void nativeBuilt() {
    Fixtures.requireNative();
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-deepseek-v3", "tiny-deepseek-noqlora", "tiny-deepseek-v2-lite", "tiny-qwen2",
      "tiny-llama"})
  void matchesTransformers(String name) throws Exception {
    JsonNode g = Fixtures.golden(name);
    int[] ids = Fixtures.ints(g.get("input_ids"));
    try (Engine engine = Engine.load(Fixtures.model(name), Fixtures.options())) {
      int vocab = engine.info().vocabSize();
      assertThat(vocab).isEqualTo(g.get("logits_last").size());
      float[] all = engine.forwardLogits(ids, true);
      assertThat(all).hasSize(ids.length * vocab);

      for (Map.Entry<String, JsonNode> row : iterable(g.get("logits_rows"))) {
        int pos = Integer.parseInt(row.getKey());
        for (int i = 0; i < vocab; i++) {
          assertThat((double) all[pos * vocab + i]).as("%s logit[%d][%d]", name, pos, i)
              .isCloseTo(row.getValue().get(i).asDouble(), org.assertj.core.data.Offset.offset(1e-3));
        }
      }
      float[] last = engine.forwardLogits(ids);
      for (int i = 0; i < vocab; i++) {
        assertThat((double) last[i]).isCloseTo(g.get("logits_last").get(i).asDouble(),
            org.assertj.core.data.Offset.offset(1e-3));
      }
      int[] argmax = Fixtures.ints(g.get("argmax_per_position"));
      for (int p = 0; p < ids.length; p++) assertThat(argmaxRow(all, p, vocab)).as("argmax at %d", p).isEqualTo(argmax[p]);

      int[] expected = Fixtures.ints(g.get("greedy_continuation"));
      List<Integer> got = new ArrayList<>();
      RecordingListener listener = new RecordingListener(got);
      Sequence seq = engine.start(ids, Sampling.greedy(expected.length), listener);
      assertThat(seq.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      assertThat(got).containsExactly(box(expected));
      assertThat(listener.completionTokens).isEqualTo(expected.length);
      assertThat(listener.promptTokens).isEqualTo(ids.length);
    }
  }

  static int argmaxRow(float[] logits, int row, int vocab) {
    int best = 0;
    for (int i = 1; i < vocab; i++) if (logits[row * vocab + i] > logits[row * vocab + best]) best = i;
    return best;
  }

  static Integer[] box(int[] a) {
    Integer[] out = new Integer[a.length];
    for (int i = 0; i < a.length; i++) out[i] = a[i];
    return out;
  }

  private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode node) {
    return node::fields;
  }

  static class RecordingListener implements TokenListener {
    final List<Integer> tokens;
    volatile int promptTokens = -1;
    volatile int completionTokens = -1;
    volatile FinishReason reason;
    volatile EngineException error;

    RecordingListener(List<Integer> tokens) {
      this.tokens = tokens;
    }

    @Override
    public void onToken(int tokenId) {
      tokens.add(tokenId);
    }

    @Override
    public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
      this.reason = reason;
      this.promptTokens = promptTokens;
      this.completionTokens = completionTokens;
    }

    @Override
    public void onError(EngineException e) {
      error = e;
    }
  }
}
