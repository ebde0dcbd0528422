package ai.deepchat.gpu.engine;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Engine#stats()}: running and queued sequences and the KV reservation, read while a
 * generation is held at a known token (its listener blocks the scheduler thread there).
 */
class EngineStatsTest {

  @BeforeAll
  static void nativeBuilt() {
    Fixtures.requireNative();
  }

  @Test
  void statsFollowAdmissionQueueAndKvReservation() throws Exception {
    // one slot, a 64-token context: a second generation must queue; KV total = 1 slot * 64
    try (Engine engine = Engine.load(Fixtures.model("tiny-llama"), new EngineOptions("cpu", 2, false, 1, 64))) {
      assertThat(engine.stats()).isEqualTo(new EngineStats(0, 0, 0, 64));

      CountDownLatch atFirst = new CountDownLatch(1);
      CountDownLatch leaveFirst = new CountDownLatch(1);
      CountDownLatch atSecond = new CountDownLatch(1);
      CountDownLatch leaveSecond = new CountDownLatch(1);
      Sequence held = engine.start(new int[] {1, 2, 3}, Sampling.greedy(10), new EngineGoldenTest.RecordingListener(
          new ArrayList<>()) {
        int n;

        @Override
        public void onToken(int tokenId) {
          n++;
          if (n == 1) {
            pass(atFirst, leaveFirst);
          } else if (n == 2) {
            pass(atSecond, leaveSecond);
          }
        }
      });
      assertThat(atFirst.await(30, TimeUnit.SECONDS)).isTrue();
      // held inside its first step: the snapshot taken after admission
      assertThat(engine.stats()).isEqualTo(new EngineStats(1, 0, 3 + 10, 64));
      assertThat(engine.stats().kvUse()).isEqualTo(13 / 64.0);

      Sequence queued = engine.start(new int[] {4, 5}, Sampling.greedy(4),
          new EngineGoldenTest.RecordingListener(new ArrayList<>()));
      leaveFirst.countDown();
      assertThat(atSecond.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(engine.stats()).as("the second waits for the only slot").isEqualTo(new EngineStats(1, 1, 13, 64));

      leaveSecond.countDown();
      assertThat(held.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      assertThat(queued.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(FinishReason.LENGTH);
      awaitStats(engine, s -> s.equals(new EngineStats(0, 0, 0, 64)));
    }
  }

  private static void pass(CountDownLatch arrived, CountDownLatch leave) {
    arrived.countDown();
    try {
      leave.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The last snapshot is published after the step that ends the last sequence, just after completion. */
  private static void awaitStats(Engine engine, Predicate<EngineStats> expected) throws Exception {
    until("the engine's stats match", Duration.ofSeconds(10), () -> expected.test(engine.stats()));
    assertThat(engine.stats()).matches(expected);
  }
}
