package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CLUSTER_SELF_CHECK_SECONDS: 5 s by default, 1–300 s, anything else refused naming the key. */
class ClusterSelfCheckConfigTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void fiveSecondsByDefaultSetWithinBoundsAndRefusedOutside() {
    assertThat(load(Map.of()).cluster().selfCheckSeconds()).isEqualTo(5);
    assertThat(load(Map.of("CLUSTER_SELF_CHECK_SECONDS", "30")).cluster().selfCheckSeconds()).isEqualTo(30);
    for (String bad : new String[] {"0", "301", "soon"}) {
      assertThatThrownBy(() -> load(Map.of("CLUSTER_SELF_CHECK_SECONDS", bad)))
          .isInstanceOf(ConfigException.class).hasMessageContaining("CLUSTER_SELF_CHECK_SECONDS");
    }
  }
}
