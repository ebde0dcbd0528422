package ai.deepchat.gpu.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scheduling, cancellation and bad input through the Java API; each error is a typed exception. */
class EngineBehaviourTest {

  @BeforeAll
  static void nativeBuilt() {
    Fixtures.requireNative();
  }

  @Test
  void interleavedSequencesMatchSoloRuns() throws Exception {
    JsonNode g = Fixtures.golden("tiny-qwen2");
    int[] ids = Fixtures.ints(g.get("input_ids"));
    int[] expected = Fixtures.ints(g.get("greedy_continuation"));
    int[] other = {5, 9, 200, 31, 7};
    try (Engine engine = Engine.load(Fixtures.model("tiny-qwen2"), Fixtures.options())) {
      List<Integer> solo = Collections.synchronizedList(new ArrayList<>());
      engine.start(other, Sampling.greedy(12), new EngineGoldenTest.RecordingListener(solo))
          .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);

      List<Integer> a = Collections.synchronizedList(new ArrayList<>());
      List<Integer> b = Collections.synchronizedList(new ArrayList<>());
      Sequence sa = engine.start(ids, Sampling.greedy(expected.length), new EngineGoldenTest.RecordingListener(a));
      Sequence sb = engine.start(other, Sampling.greedy(12), new EngineGoldenTest.RecordingListener(b));
      sa.completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
      sb.completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(a).containsExactly(EngineGoldenTest.box(expected));
      assertThat(b).isEqualTo(solo);
    }
  }

  @Test
  void startsBeyondMaxSequencesWaitForASlot() throws Exception {
    int[][] prompts = {{5, 6, 7}, {8, 9}, {10, 11, 12, 13}};
    try (Engine one = Engine.load(Fixtures.model("tiny-deepseek-v3"), new EngineOptions("cpu", 2, false, 1, 0));
        Engine many = Engine.load(Fixtures.model("tiny-deepseek-v3"), Fixtures.options())) {
      List<List<Integer>> queued = new ArrayList<>();
      List<Sequence> seqs = new ArrayList<>();
      for (int[] p : prompts) {
        List<Integer> got = Collections.synchronizedList(new ArrayList<>());
        queued.add(got);
        seqs.add(one.start(p, Sampling.greedy(6), new EngineGoldenTest.RecordingListener(got)));
      }
      Sequence cancelledWhileWaiting = one.start(new int[] {1}, Sampling.greedy(6),
          new EngineGoldenTest.RecordingListener(new ArrayList<>()));
      cancelledWhileWaiting.cancel();
      for (Sequence s : seqs) {
        assertThat(s.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      }
      assertThat(cancelledWhileWaiting.completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
          .isEqualTo(FinishReason.CANCELLED);
      for (int i = 0; i < prompts.length; i++) {
        List<Integer> solo = Collections.synchronizedList(new ArrayList<>());
        many.start(prompts[i], Sampling.greedy(6), new EngineGoldenTest.RecordingListener(solo))
            .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertThat(queued.get(i)).hasSize(6).isEqualTo(solo);
      }
    }
  }

  @Test
  void forwardLogitsIsSafeFromManyThreadsDuringGeneration() throws Exception {
    int[] ids = {3, 1, 4, 1, 5, 9, 2, 6};
    try (Engine engine = Engine.load(Fixtures.model("tiny-deepseek-v2-lite"), Fixtures.options())) {
      float[] expected = engine.forwardLogits(ids);
      Sequence gen = engine.start(new int[] {7, 7, 7}, Sampling.greedy(200),
          new EngineGoldenTest.RecordingListener(Collections.synchronizedList(new ArrayList<>())));
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        List<java.util.concurrent.Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) results.add(pool.submit(() -> engine.forwardLogits(ids)));
        for (java.util.concurrent.Future<float[]> f : results) assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(expected);
      } finally {
        pool.shutdownNow();
      }
      assertThat(gen.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
    }
  }

  @Test
  void cancelStopsGenerationAndReportsCancelled() throws Exception {
    try (Engine engine = Engine.load(Fixtures.model("tiny-llama"), Fixtures.options())) {
      CountDownLatch firstToken = new CountDownLatch(1);
      List<Integer> got = Collections.synchronizedList(new ArrayList<>());
      EngineGoldenTest.RecordingListener rec = new EngineGoldenTest.RecordingListener(got) {
        @Override
        public void onToken(int tokenId) {
          super.onToken(tokenId);
          firstToken.countDown();
        }
      };
      Sequence s = engine.start(new int[] {1, 2, 3}, Sampling.greedy(4000), rec);
      assertThat(firstToken.await(30, TimeUnit.SECONDS)).isTrue();
      s.cancel();
      assertThat(s.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.CANCELLED);
      assertThat(rec.completionTokens).isBetween(1, 3999).isEqualTo(got.size());
      assertThat(s.isDone()).isTrue();
    }
  }

  @Test
  void closeCancelsRunningSequencesAndSurvivesThrowingListeners() throws Exception {
    Engine engine = Engine.load(Fixtures.model("tiny-llama"), Fixtures.options());
    CountDownLatch started = new CountDownLatch(2);
    EngineGoldenTest.RecordingListener throwing = new EngineGoldenTest.RecordingListener(new ArrayList<>()) {
      @Override
      public void onToken(int tokenId) {
        started.countDown();
        throw new IllegalStateException("listener bug");
      }
    };
    EngineGoldenTest.RecordingListener slow = new EngineGoldenTest.RecordingListener(
        Collections.synchronizedList(new ArrayList<>())) {
      @Override
      public void onToken(int tokenId) {
        super.onToken(tokenId);
        started.countDown();
      }
    };
    Sequence bad = engine.start(new int[] {3, 4}, Sampling.greedy(100), throwing);
    Sequence running = engine.start(new int[] {1, 2, 3}, Sampling.greedy(4000), slow);
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> bad.completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(EngineException.class).hasMessageContaining("listener bug");
    engine.close();
    assertThat(running.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.CANCELLED);
    assertThat(slow.reason).isEqualTo(FinishReason.CANCELLED);
    assertThatThrownBy(() -> engine.start(new int[] {1}, Sampling.greedy(1), slow))
        .isInstanceOf(EngineException.class).hasMessageContaining("closed");
  }

  @Test
  void stopTokenEndsWithStop() throws Exception {
    JsonNode g = Fixtures.golden("tiny-llama");
    int[] ids = Fixtures.ints(g.get("input_ids"));
    int[] cont = Fixtures.ints(g.get("greedy_continuation"));
    try (Engine engine = Engine.load(Fixtures.model("tiny-llama"), Fixtures.options())) {
      List<Integer> got = Collections.synchronizedList(new ArrayList<>());
      EngineGoldenTest.RecordingListener rec = new EngineGoldenTest.RecordingListener(got);
      Sequence s = engine.start(ids, Sampling.greedy(16, cont[2]), rec);
      assertThat(s.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.STOP);
      assertThat(got).containsExactly(cont[0], cont[1]);
      assertThat(rec.completionTokens).isEqualTo(2);
    }
  }

  @Test
  void promptLongerThanContextIsRejected() {
    try (Engine engine = Engine.load(Fixtures.model("tiny-qwen2"), new EngineOptions("cpu", 1, false, 2, 8))) {
      assertThat(engine.info().maxContext()).isEqualTo(8);
      assertThatThrownBy(() -> engine.start(new int[9], Sampling.greedy(4), new EngineGoldenTest.RecordingListener(
          new ArrayList<>())))
          .isInstanceOf(EngineException.class).hasMessageContaining("longer than the context of 8")
          .extracting(e -> ((EngineException) e).kind()).isEqualTo(EngineException.Kind.BAD_REQUEST);
      assertThatThrownBy(() -> engine.forwardLogits(new int[] {1, 600}))
          .isInstanceOf(EngineException.class).hasMessageContaining("outside the vocabulary");
    }
  }

  @Test
  void badSamplingParametersReachOnError() throws Exception {
    try (Engine engine = Engine.load(Fixtures.model("tiny-qwen2"), Fixtures.options())) {
      EngineGoldenTest.RecordingListener rec = new EngineGoldenTest.RecordingListener(new ArrayList<>());
      Sequence s = engine.start(new int[] {1}, new Sampling(0.7f, 1.5f, 0, 1f, 1, 4, null), rec);
      assertThatThrownBy(() -> s.completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(EngineException.class)
          .hasMessageContaining("top_p");
      assertThat(rec.error).isNotNull();
    }
  }

  @Test
  void unknownArchitectureIsRejected(@TempDir Path dir) throws IOException {
    Path src = Fixtures.model("tiny-llama");
    Files.writeString(dir.resolve("config.json"),
        Files.readString(src.resolve("config.json")).replace("LlamaForCausalLM", "MambaForCausalLM"));
    Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    assertThatThrownBy(() -> Engine.load(dir, Fixtures.options()))
        .isInstanceOf(EngineException.class).hasMessageContaining("unknown architecture 'MambaForCausalLM'")
        .extracting(e -> ((EngineException) e).kind()).isEqualTo(EngineException.Kind.UNSUPPORTED);
  }

  @Test
  void truncatedCheckpointIsRejected(@TempDir Path dir) throws IOException {
    Path src = Fixtures.model("tiny-llama");
    Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
    byte[] all = Files.readAllBytes(src.resolve("model.safetensors"));
    Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length / 2));
    assertThatThrownBy(() -> Engine.load(dir, Fixtures.options()))
        .isInstanceOf(EngineException.class).hasMessageContaining("truncated")
        .extracting(e -> ((EngineException) e).kind()).isEqualTo(EngineException.Kind.BAD_CHECKPOINT);
  }

  @Test
  void missingFolderAndClosedEngineFailCleanly() {
    assertThatThrownBy(() -> Engine.load(Path.of("/nonexistent/model"), Fixtures.options()))
        .isInstanceOf(EngineException.class).hasMessageContaining("/nonexistent/model");
    Engine engine = Engine.load(Fixtures.model("tiny-llama"), Fixtures.options());
    engine.close();
    engine.close();  // idempotent
    assertThatThrownBy(() -> engine.forwardLogits(new int[] {1})).isInstanceOf(EngineException.class)
        .hasMessageContaining("closed");
  }

  /** A constraint allowing only {@code allowed}; counts its calls, fails on the call {@code failAt} (0: never). */
  static final class OnlyTokens implements TokenConstraint {
    final java.util.Set<Integer> allowed;
    final int failAt;
    final List<Integer> accepted = Collections.synchronizedList(new ArrayList<>());
    int masks;

    OnlyTokens(int failAt, Integer... allowed) {
      this.allowed = java.util.Set.of(allowed);
      this.failAt = failAt;
    }

    @Override
    public long[] nextMask() {
      if (++masks == failAt) {
        throw new IllegalStateException("automaton broke");
      }
      long[] m = new long[(129_280 + 63) / 64];
      for (int t : allowed) {
        m[t >>> 6] |= 1L << t;
      }
      return m;
    }

    @Override
    public void accept(int tokenId) {
      accepted.add(tokenId);
    }
  }

  @Test
  void aConstrainedSequenceSamplesOnlyItsMaskAndAFailingConstraintEndsOnlyItsOwn() throws Exception {
    try (Engine engine = Engine.load(Fixtures.model("tiny-deepseek-v3"), Fixtures.options())) {
      Sampling hot = new Sampling(1.5f, 1f, 0, 1f, 3L, 10, new int[0]);
      OnlyTokens three = new OnlyTokens(0, 7, 8, 9);
      OnlyTokens broken = new OnlyTokens(4, 7, 8, 9);
      List<Integer> got = Collections.synchronizedList(new ArrayList<>());
      List<Integer> free = Collections.synchronizedList(new ArrayList<>());
      Sequence a = engine.start(new int[] {5, 6, 7}, hot, new EngineGoldenTest.RecordingListener(got), three);
      Sequence b = engine.start(new int[] {5, 6, 7}, hot, new EngineGoldenTest.RecordingListener(new ArrayList<>()), broken);
      Sequence c = engine.start(new int[] {5, 6, 7}, hot, new EngineGoldenTest.RecordingListener(free));
      assertThat(a.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      assertThat(got).hasSize(10).allMatch(t -> t >= 7 && t <= 9).isEqualTo(three.accepted);
      assertThatThrownBy(() -> b.completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(EngineException.class).hasMessageContaining("automaton broke");
      assertThat(c.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      assertThat(free).hasSize(10).anyMatch(t -> t < 7 || t > 9); // the random model unmasked
    }
  }
}
