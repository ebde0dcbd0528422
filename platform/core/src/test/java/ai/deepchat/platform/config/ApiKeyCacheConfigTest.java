package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** API_KEY_CACHE: on unless set false (behind a pooler in transaction mode); anything else is refused. */
class ApiKeyCacheConfigTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void onByDefaultOffWhenSetFalseAndRefusedWhenUnclear() {
    assertThat(load(Map.of()).database().apiKeyCache()).isTrue();
    assertThat(load(Map.of("API_KEY_CACHE", "false")).database().apiKeyCache()).isFalse();
    assertThatThrownBy(() -> load(Map.of("API_KEY_CACHE", "sometimes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("API_KEY_CACHE");
  }
}
