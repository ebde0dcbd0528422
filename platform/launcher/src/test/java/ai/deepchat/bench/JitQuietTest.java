package ai.deepchat.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench's JIT warm-up goes on while the JIT takes more than its share of the platform's CPU, up to a maximum. */
class JitQuietTest {

  private final JitQuiet quiet = new JitQuiet(0.05, 300_000);

  @Test
  void theShareLeavesTheEngineAndTheLoadGeneratorOut() {
    assertThat(JitQuiet.jitShare(Map.of("jit", 0.1, "event loops", 0.3, "postgres", 0.1, "engine", 5.0,
        "load generator", 1.0))).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void goesOnWhileTheJitIsBusyAndStopsWhenQuietOrAtTheMaximum() {
    Map<String, Double> busy = Map.of("jit", 0.12, "event loops", 0.2, "postgres", 0.14);
    Map<String, Double> calm = Map.of("jit", 0.01, "event loops", 0.2, "postgres", 0.14);
    assertThat(quiet.goOn(25_000, busy)).isTrue();
    assertThat(quiet.goOn(25_000, calm)).isFalse();
    assertThat(quiet.goOn(300_000, busy)).isFalse();
  }
}
