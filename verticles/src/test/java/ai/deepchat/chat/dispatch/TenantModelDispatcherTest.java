package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantModelDispatcherTest {

  private static ModelChoice defaultFor(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("DATA_DIR", "/tmp/unused");
    return TenantModelDispatcher.platformDefault(ConfigLoader.load(all, new String[0]));
  }

  @Test
  void withNothingConfiguredTheTestModelAnswersAndSaysSo() {
    ModelChoice m = defaultFor(Map.of());
    assertThat(m.testModel()).isTrue();
    assertThat(m.primary()).isEqualTo(BackendSpec.local("tiny-test"));
    assertThat(m.notice()).contains("test model").contains("MODEL_DIR").contains("DEEPSEEK_API_KEY");
  }

  @Test
  void deepSeeksApiWhenKeyed() {
    ModelChoice m = defaultFor(Map.of("DEEPSEEK_API_KEY", "sk-1", "DEEPSEEK_MODEL", "deepseek-reasoner"));
    assertThat(m.testModel()).isFalse();
    assertThat(m.notice()).isNull();
    assertThat(m.primary().kind()).isEqualTo(BackendSpec.Kind.OPENAI);
    assertThat(m.primary().target()).isEqualTo("https://api.deepseek.com");
    assertThat(m.name()).isEqualTo("deepseek-reasoner");
    assertThat(m.primary().toString()).doesNotContain("sk-1");
  }

  @Test
  void theLocalModelFirstWithTheApiAsFallback() {
    ModelChoice m = defaultFor(Map.of("MODEL_DIR", "/models/DeepSeek-R1-Distill-Qwen-1.5B", "DEEPSEEK_API_KEY", "sk-1"));
    assertThat(m.primary()).isEqualTo(BackendSpec.local("DeepSeek-R1-Distill-Qwen-1.5B"));
    assertThat(m.fallback().kind()).isEqualTo(BackendSpec.Kind.OPENAI);
  }

  @Test
  void badChatSettingsStopTheStart() {
    assertThatThrownBy(() -> defaultFor(Map.of("JWT_SECRET", "short"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("JWT_SECRET");
    assertThatThrownBy(() -> defaultFor(Map.of("DEEPSEEK_BASE_URL", "ftp://x"))).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> defaultFor(Map.of("CHAT_REQUEST_TIMEOUT_MS", "30000"))).isInstanceOf(ConfigException.class);
  }

  @Test
  void rolloutBucketsAreStablePerConversation() {
    UUID conv = UUID.randomUUID();
    assertThat(TenantModelDispatcher.bucket(conv)).isEqualTo(TenantModelDispatcher.bucket(conv)).isBetween(0.0, 100.0);
    int below = 0;
    for (int i = 0; i < 2000; i++) {
      below += TenantModelDispatcher.bucket(UUID.randomUUID()) < 10 ? 1 : 0;
    }
    assertThat(below).isBetween(100, 300);
  }
}
