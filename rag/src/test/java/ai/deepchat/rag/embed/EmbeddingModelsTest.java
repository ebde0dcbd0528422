package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The one embedding registry on the real bge-small-zh model: one clipping rule, one normalization,
 * blank text similar to nothing, one cosine.
 */
class EmbeddingModelsTest {

  private static final Embedder ZH = EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH);

  @Test
  void oneEmbedderPerModel() {
    assertThat(EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH)).isSameAs(ZH);
    assertThat(ZH.dimension()).isEqualTo(512);
    assertThat(ZH.embed("营业时间是几点？")).hasSize(512);
  }

  @Test
  void aBatchIsEmbeddedOnTheCallingThreadAlone() {
    ZH.embed("预热"); // loaded before sampling
    Thread caller = Thread.currentThread();
    Set<String> others = ConcurrentHashMap.newKeySet();
    AtomicBoolean done = new AtomicBoolean();
    // samples every thread's stack while the batch runs: any thread but the caller inside the model
    // would be a pool of langchain4j's own, outside the node's embeddings pool and its size
    Thread sampler = new Thread(() -> {
      while (!done.get()) {
        Thread.getAllStackTraces().forEach((thread, stack) -> {
          if (thread != caller && Arrays.stream(stack)
              .anyMatch(f -> f.getClassName().startsWith("dev.langchain4j.model.embedding.onnx"))) {
            others.add(thread.getName());
          }
        });
        LockSupport.parkNanos(1_000_000);
      }
    });
    sampler.start();
    List<float[]> batch = ZH.embedPassages(Collections.nCopies(24, "退货政策是什么？我们的商店每天早上九点开门。"));
    done.set(true);
    assertThat(batch).hasSize(24);
    assertThat(others).as("threads other than the caller running the model").isEmpty();
  }

  @Test
  void aTextLongerThanTheWindowIsEmbeddedByItsFirstTokens() {
    // 400 CJK characters (400 tokens), then English text about something else: 510 tokens in all
    // reach into the English part, the rest of it is cut
    String head = "我们的商店每天早上九点开门，晚上八点关门。".repeat(20);
    String tail = " Shipping abroad takes two weeks and costs twenty dollars per parcel.".repeat(40);
    String text = head + tail;
    String clipped = BgeEmbedder.clip(text);
    assertThat(clipped).startsWith(head).hasSizeLessThan(text.length());
    assertThat(Vectors.cosine(ZH.embed(text), ZH.embed(clipped))).isCloseTo(1.0, within(1e-5));
    assertThat(Vectors.cosine(ZH.embedPassages(List.of(text)).get(0), ZH.embed(clipped))).isCloseTo(1.0, within(1e-5));
    // a text within the window is embedded whole
    assertThat(BgeEmbedder.clip(head)).isEqualTo(head);
  }

  @Test
  void blankTextIsTheZeroVectorAndSimilarToNothing() {
    float[] blank = ZH.embed("  \n ");
    assertThat(blank).hasSize(512).containsOnly(0f);
    assertThat(Vectors.cosine(blank, ZH.embed("你好"))).isZero();
    assertThat(ZH.embedQuery(" ")).containsOnly(0f);
    List<float[]> batch = ZH.embedPassages(List.of("退货政策", "", "运费多少"));
    assertThat(batch.get(1)).containsOnly(0f);
    assertThat(Vectors.cosine(batch.get(0), ZH.embed("退货政策"))).isCloseTo(1.0, within(1e-5));
    assertThat(Vectors.cosine(batch.get(2), ZH.embed("运费多少"))).isCloseTo(1.0, within(1e-5));
  }

  @Test
  void vectorsAreUnitLengthSoInnerProductIsCosine() {
    float[] a = ZH.embed("How do I return an order?");
    float[] b = ZH.embedQuery("return policy");
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
    }
    assertThat(Vectors.cosine(a, a)).isCloseTo(1.0, within(1e-5));
    assertThat(dot).isCloseTo(Vectors.cosine(a, b), within(1e-5));
  }

  @Test
  void storedVectorsRoundTripAndMismatchedOnesNeverMatch() {
    float[] v = {0.5f, -1.25f, 3f};
    Buffer stored = Vectors.encode(v);
    assertThat(stored.length()).isEqualTo(12);
    assertThat(stored.getFloatLE(4)).isEqualTo(-1.25f);
    assertThat(Vectors.decode(stored)).containsExactly(v);
    assertThat(Vectors.cosine(v, new float[] {0.5f, -1.25f})).isZero();
    assertThat(Vectors.cosine(new float[] {3, 4}, new float[] {6, 8})).isCloseTo(1.0, within(1e-9));
    assertThat(Vectors.normalize(new float[] {3, 4})).containsExactly(0.6f, 0.8f);
  }
}
