package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** DB_POOL_PER_EVENT_LOOP (#25): on (one pool per event loop) unless set false; anything else is refused. */
class PoolPerEventLoopConfigTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void onByDefaultOffWhenSetFalseAndRefusedWhenUnclear() {
    assertThat(load(Map.of()).database().poolPerEventLoop()).isTrue();
    assertThat(load(Map.of("DB_POOL_PER_EVENT_LOOP", "false")).database().poolPerEventLoop()).isFalse();
    assertThatThrownBy(() -> load(Map.of("DB_POOL_PER_EVENT_LOOP", "sometimes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("DB_POOL_PER_EVENT_LOOP");
  }
}
