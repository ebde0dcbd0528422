package ai.deepchat.gpu.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Seeded sampling and INT8 loading through JNI. */
class EngineSamplingTest {

  @BeforeAll
  static void nativeBuilt() {
    Fixtures.requireNative();
  }

  private static List<Integer> run(Engine engine, Sampling sampling) throws Exception {
    List<Integer> got = Collections.synchronizedList(new ArrayList<>());
    engine.start(new int[] {10, 20, 30}, sampling, new EngineGoldenTest.RecordingListener(got))
        .completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return got;
  }

  @Test
  void sameSeedSameTokensOtherSeedOtherTokens() throws Exception {
    try (Engine engine = Engine.load(Fixtures.model("tiny-deepseek-v3"), Fixtures.options())) {
      Sampling s = new Sampling(1.5f, 0.95f, 50, 1.1f, 42L, 24, null);
      List<Integer> a = run(engine, s);
      assertThat(a).hasSize(24);
      assertThat(run(engine, s)).isEqualTo(a);
      assertThat(run(engine, new Sampling(1.5f, 0.95f, 50, 1.1f, 43L, 24, null))).isNotEqualTo(a);
    }
  }

  @Test
  void int8EngineStaysCloseToFloat() {
    int[] ids = {5, 6, 7, 8, 9, 10, 11, 12};
    try (Engine f = Engine.load(Fixtures.model("tiny-qwen2"), Fixtures.options());
        Engine q = Engine.load(Fixtures.model("tiny-qwen2"), new EngineOptions("cpu", 2, true, 2, 0))) {
      assertThat(q.info().weightBytes()).isLessThan(f.info().weightBytes() / 2);
      float[] lf = f.forwardLogits(ids);
      float[] lq = q.forwardLogits(ids);
      for (int i = 0; i < lf.length; i++) assertThat(Math.abs(lf[i] - lq[i])).isLessThan(0.05f);
    }
  }
}
