package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GATEWAY_INSTANCES and PIPELINE_INSTANCES: at least two by default, checked like every other count. */
class InstancesConfigTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void defaultToTheProcessorsAndAtLeastTwo() {
    PlatformConfig.Instances instances = load(Map.of()).instances();
    int expected = Math.max(2, Runtime.getRuntime().availableProcessors());
    assertThat(instances).isEqualTo(new PlatformConfig.Instances(expected, expected));
    assertThat(load(Map.of("GATEWAY_INSTANCES", "1", "PIPELINE_INSTANCES", "5")).instances())
        .isEqualTo(new PlatformConfig.Instances(1, 5));
  }

  @Test
  void badCountsNameTheirKey() {
    assertThatThrownBy(() -> load(Map.of("GATEWAY_INSTANCES", "0")))
        .isInstanceOf(ConfigException.class).hasMessage("GATEWAY_INSTANCES: '0' is outside 1..256");
    assertThatThrownBy(() -> load(Map.of("PIPELINE_INSTANCES", "many")))
        .isInstanceOf(ConfigException.class).hasMessage("PIPELINE_INSTANCES: 'many' is not a number");
  }
}
