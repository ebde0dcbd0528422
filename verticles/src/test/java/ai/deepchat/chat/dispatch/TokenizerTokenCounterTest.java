package ai.deepchat.chat.dispatch;

import ai.deepchat.chat.cache.ResponseCache;
import ai.deepchat.platform.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TokenizerTokenCounterTest {

  @Test
  void countsWithTheRealDeepSeekTokenizerAndTheEstimateNeverUndercounts(@TempDir Path dataDir) {
    TokenCounter real = TokenizerTokenCounter.forConfig(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString()),
        new String[0]));
    assertThat(real).isInstanceOf(TokenizerTokenCounter.class);
    assertThat(real.count("")).isZero();
    assertThat(real.count("Hello")).isEqualTo(1);
    TokenCounter estimate = new ApproxTokenCounter();
    for (String text : new String[] {"How do I reset my password on the mobile app?",
        "请问你们的营业时间是什么时候？周末也营业吗？", "Order #A-1234567, shipped 2026-11-23 via DHL.",
        "The quick brown fox jumps over the lazy dog. ".repeat(20)}) {
      int exact = real.count(text);
      assertThat(exact).isPositive();
      // the estimate backs remote-only nodes without a tokenizer; it must never promise room that is not there
      assertThat(estimate.count(text)).as(text).isGreaterThanOrEqualTo(exact);
    }
    ((TokenizerTokenCounter) real).close();
  }

  @Test
  void theMetricsCountTheEncodingsCpuBesideItsWallTime(@TempDir Path dataDir) {
    TokenCounter real = TokenizerTokenCounter.forConfig(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString()),
        new String[0]));
    long calls = TokenizerTokenCounter.calls();
    long cpu = TokenizerTokenCounter.cpuNanos();
    // long enough to take more than one tick of the coarsest thread clock
    assertThat(real.count("The quick brown fox jumps over the lazy dog. ".repeat(2_000))).isGreaterThan(10_000);
    assertThat(TokenizerTokenCounter.calls() - calls).isEqualTo(1);
    assertThat(TokenizerTokenCounter.cpuNanos() - cpu).isPositive();
    assertThat(ResponseCache.registry().find("deepchat.tokenizer.cpu.seconds").functionCounter()).isNotNull();
    ((TokenizerTokenCounter) real).close();
  }
}
