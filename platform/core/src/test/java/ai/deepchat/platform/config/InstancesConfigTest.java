package ai.deepchat.platform.config;

import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GATEWAY_INSTANCES and PIPELINE_INSTANCES: at least two by default (conversation verticles: one per
 * event loop), checked like every other count; likewise the sizes of the named worker pools.
 */
class InstancesConfigTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void defaultToTheProcessorsAndOnePipelinePerEventLoop() {
    PlatformConfig.Instances instances = load(Map.of()).instances();
    int expected = Math.max(2, Runtime.getRuntime().availableProcessors());
    // conversation verticles: one per Vert.x event loop (2 per processor), so each edge has its own
    assertThat(instances).isEqualTo(new PlatformConfig.Instances(expected,
        Math.max(2, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE)));
    assertThat(load(Map.of("GATEWAY_INSTANCES", "1", "PIPELINE_INSTANCES", "5")).instances())
        .isEqualTo(new PlatformConfig.Instances(1, 5));
  }

  @Test
  void turnsRunOnTheirEdgesLoopOnlyWhenAsked() {
    assertThat(load(Map.of()).instances().turnsOnEdgeLoop()).isFalse();
    assertThat(load(Map.of("PIPELINE_ON_EDGE_LOOP", "true")).instances().turnsOnEdgeLoop()).isTrue();
  }

  @Test
  void ingestWorkersDefaultToTwoAndAreBounded() {
    assertThat(load(Map.of()).instances().ingestWorkers()).isEqualTo(2);
    assertThat(load(Map.of("INGEST_WORKERS", "4")).instances().ingestWorkers()).isEqualTo(4);
    assertThat(problem("INGEST_WORKERS", "65")).isEqualTo("INGEST_WORKERS: '65' is outside 1..64");
  }

  @Test
  void theLargestUploadDefaultsTo100MiBAndIsBounded() {
    assertThat(load(Map.of()).instances().ingestMaxFileMb()).isEqualTo(100);
    assertThat(load(Map.of("INGEST_MAX_FILE_MB", "512")).instances().ingestMaxFileMb()).isEqualTo(512);
    assertThat(problem("INGEST_MAX_FILE_MB", "0")).isEqualTo("INGEST_MAX_FILE_MB: '0' is outside 1..10240");
  }

  @Test
  void badCountsNameTheirKey() {
    assertThat(problem("GATEWAY_INSTANCES", "0")).isEqualTo("GATEWAY_INSTANCES: '0' is outside 1..256");
    assertThat(problem("PIPELINE_INSTANCES", "many")).isEqualTo("PIPELINE_INSTANCES: 'many' is not a number");
  }

  @Test
  void workerPoolSizesDefaultAndAreBounded() {
    int cpus = Math.max(2, Runtime.getRuntime().availableProcessors());
    assertThat(load(Map.of()).workers()).isEqualTo(new PlatformConfig.Workers(2, 2, cpus, cpus, 4))
        .isEqualTo(PlatformConfig.Workers.defaults());
    assertThat(load(Map.of("PASSWORD_HASH_WORKERS", "1", "EMBEDDING_WORKERS", "3", "TOKENIZER_WORKERS", "5",
        "ENGINE_ADMISSION_WORKERS", "7", "OUTBOUND_LOOKUP_WORKERS", "9")).workers())
        .isEqualTo(new PlatformConfig.Workers(1, 3, 5, 7, 9));
    assertThat(problem("PASSWORD_HASH_WORKERS", "0")).isEqualTo("PASSWORD_HASH_WORKERS: '0' is outside 1..256");
    assertThat(problem("EMBEDDING_WORKERS", "257")).isEqualTo("EMBEDDING_WORKERS: '257' is outside 1..256");
    assertThat(problem("TOKENIZER_WORKERS", "some")).isEqualTo("TOKENIZER_WORKERS: 'some' is not a number");
    assertThat(problem("ENGINE_ADMISSION_WORKERS", "-1")).isEqualTo("ENGINE_ADMISSION_WORKERS: '-1' is outside 1..256");
    assertThat(problem("OUTBOUND_LOOKUP_WORKERS", "0")).isEqualTo("OUTBOUND_LOOKUP_WORKERS: '0' is outside 1..256");
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
