package ai.deepchat.platform.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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
  void ingestWorkersDefaultToTwoAndAreBounded() {
    assertThat(load(Map.of()).instances().ingestWorkers()).isEqualTo(2);
    assertThat(load(Map.of("INGEST_WORKERS", "4")).instances().ingestWorkers()).isEqualTo(4);
    assertThat(problem("INGEST_WORKERS", "65")).isEqualTo("INGEST_WORKERS: '65' is outside 1..64");
  }

  @Test
  void badCountsNameTheirKey() {
    assertThat(problem("GATEWAY_INSTANCES", "0")).isEqualTo("GATEWAY_INSTANCES: '0' is outside 1..256");
    assertThat(problem("PIPELINE_INSTANCES", "many")).isEqualTo("PIPELINE_INSTANCES: 'many' is not a number");
  }

  /** The one line a node stops with when {@code key} is {@code value}. */
  private static String problem(String key, String value) {
    try {
      load(Map.of(key, value));
    } catch (ConfigException e) {
      return e.getMessage();
    }
    throw new AssertionError(key + "=" + value + " was accepted");
  }
}
