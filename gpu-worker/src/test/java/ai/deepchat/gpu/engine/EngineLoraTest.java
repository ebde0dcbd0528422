package ai.deepchat.gpu.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA adapters through JNI: the run-time adapter matches the same adapter merged into the weights
 * (scripts/merge_lora.py), sequences of different adapters share the scheduler's batches, and bad
 * adapters are EngineExceptions naming the fault, never a crash.
 */
class EngineLoraTest {
  private static final String MODEL = "tiny-deepseek-v3";
  private static Engine engine;
  private static int[] ids;

  @BeforeAll
  static void load() throws IOException {
    Fixtures.requireNative();
    engine = Engine.load(Fixtures.model(MODEL), Fixtures.options());
    ids = Fixtures.ints(Fixtures.golden(MODEL).get("input_ids"));
  }

  @AfterAll
  static void close() {
    if (engine != null) engine.close();
  }

  private static CompletableFuture<List<Integer>> generate(int adapter) {
    List<Integer> got = Collections.synchronizedList(new ArrayList<>());
    return engine.start(ids, Sampling.greedy(12), new EngineGoldenTest.RecordingListener(got), null, adapter)
        .completion().toCompletableFuture().thenApply(reason -> List.copyOf(got));
  }

  @Test
  void runtimeAdapterMatchesMergedWeightsAndMixesInOneBatch() throws Exception {
    int a = engine.loadAdapter(Fixtures.lora(MODEL, "a"));
    int b = engine.loadAdapter(Fixtures.lora(MODEL, "b"));
    try (Engine merged = Engine.load(Fixtures.lora(MODEL, "a-merged"), Fixtures.options())) {
      float[] runtime = engine.forwardLogits(ids, true, a);
      float[] reference = merged.forwardLogits(ids, true);
      for (int i = 0; i < runtime.length; i++) assertThat(Math.abs(runtime[i] - reference[i])).isLessThan(1e-4f);

      // Started together, so the scheduler batches them; each gets its own adapter's tokens.
      CompletableFuture<List<Integer>> base = generate(0);
      CompletableFuture<List<Integer>> withA = generate(a);
      CompletableFuture<List<Integer>> withB = generate(b);
      List<Integer> mergedTokens = new ArrayList<>();
      merged.start(ids, Sampling.greedy(12), new EngineGoldenTest.RecordingListener(mergedTokens))
          .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(withA.get(30, TimeUnit.SECONDS)).hasSize(12).isEqualTo(mergedTokens);
      assertThat(withB.get(30, TimeUnit.SECONDS)).hasSize(12).isNotEqualTo(mergedTokens);
      assertThat(base.get(30, TimeUnit.SECONDS)).hasSize(12).isNotEqualTo(mergedTokens)
          .isNotEqualTo(withB.get());
    } finally {
      engine.unloadAdapter(a);
      engine.unloadAdapter(b);
    }
  }

  /**
   * An int8 base (quantized at load) with the adapter at run time, against the adapter merged into the f32
   * weights: within int8's stated tolerance (2% of the logit range, as test_int8) and the same greedy tokens.
   */
  @Test
  void int8BaseWithRuntimeAdapterStaysCloseToMergedFloat() throws Exception {
    try (Engine q = Engine.load(Fixtures.model(MODEL), new EngineOptions("cpu", 2, true, 4, 0));
        Engine merged = Engine.load(Fixtures.lora(MODEL, "a-merged"), Fixtures.options())) {
      int a = q.loadAdapter(Fixtures.lora(MODEL, "a"));
      float[] runtime = q.forwardLogits(ids, true, a);
      float[] reference = merged.forwardLogits(ids, true);
      float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE, worst = 0;
      for (int i = 0; i < reference.length; i++) {
        lo = Math.min(lo, reference[i]);
        hi = Math.max(hi, reference[i]);
        worst = Math.max(worst, Math.abs(runtime[i] - reference[i]));
      }
      assertThat(worst).isLessThanOrEqualTo(0.02f * (hi - lo));
      List<Integer> got = Collections.synchronizedList(new ArrayList<>());
      q.start(ids, Sampling.greedy(12), new EngineGoldenTest.RecordingListener(got), null, a)
          .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
      List<Integer> want = new ArrayList<>();
      merged.start(ids, Sampling.greedy(12), new EngineGoldenTest.RecordingListener(want))
          .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(got).hasSize(12).isEqualTo(want);
    }
  }

  @Test
  void unloadedOrUnknownAdapterIsABadRequest() throws Exception {
    int a = engine.loadAdapter(Fixtures.lora(MODEL, "b"));
    engine.unloadAdapter(a);
    assertThatThrownBy(() -> generate(a).get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(EngineException.class).hasMessageContaining("no LoRA adapter " + a);
    assertThatThrownBy(() -> engine.unloadAdapter(a)).isInstanceOf(EngineException.class)
        .extracting(e -> ((EngineException) e).kind()).isEqualTo(EngineException.Kind.BAD_REQUEST);
    assertThatThrownBy(() -> engine.forwardLogits(ids, false, 999)).isInstanceOf(EngineException.class)
        .hasMessageContaining("no LoRA adapter 999");
  }

  private static void assertRefused(Path dir, EngineException.Kind kind, String fragment) {
    assertThatThrownBy(() -> engine.loadAdapter(dir)).isInstanceOf(EngineException.class)
        .hasMessageContaining(fragment).extracting(e -> ((EngineException) e).kind()).isEqualTo(kind);
  }

  private static Path copyOf(Path dir, String model) throws IOException {
    for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
      Files.copy(Fixtures.lora(model, "a").resolve(f), dir.resolve(f));
    }
    return dir;
  }

  @Test
  void badAdaptersAreRefusedWithTheFaultNamed(@TempDir Path tmp) throws IOException {
    assertRefused(Fixtures.lora("tiny-llama", "a"), EngineException.Kind.BAD_CHECKPOINT, "another base model");
    assertRefused(tmp.resolve("absent"), EngineException.Kind.BAD_CHECKPOINT, "adapter folder not found");

    Path truncated = copyOf(Files.createDirectory(tmp.resolve("truncated")), MODEL);
    byte[] st = Files.readAllBytes(truncated.resolve("adapter_model.safetensors"));
    Files.write(truncated.resolve("adapter_model.safetensors"), java.util.Arrays.copyOf(st, st.length / 2));
    assertRefused(truncated, EngineException.Kind.BAD_CHECKPOINT, "truncated");

    Path badJson = copyOf(Files.createDirectory(tmp.resolve("json")), MODEL);
    Files.writeString(badJson.resolve("adapter_config.json"), "{\"r\": 8,");
    assertRefused(badJson, EngineException.Kind.BAD_CHECKPOINT, "not valid JSON");

    Path rank = copyOf(Files.createDirectory(tmp.resolve("rank")), MODEL);
    String cfg = Files.readString(rank.resolve("adapter_config.json")).replace("\"r\": 8", "\"r\": 3");
    Files.writeString(rank.resolve("adapter_config.json"), cfg);
    assertRefused(rank, EngineException.Kind.BAD_CHECKPOINT, "but rank 3 over the base matrix");

    // The engine still serves after every refusal.
    assertThat(engine.forwardLogits(ids)).hasSize(engine.info().vocabSize());
  }
}
