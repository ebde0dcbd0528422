package ai.deepchat.platform.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * nvidia-smi is an external program; the test runs a script that prints what nvidia-smi prints for
 * the same query (two boards, one of which cannot report utilisation).
 */
@ExtendWith(VertxExtension.class)
class GpuMonitorTest {

  @Test
  void parsesNvidiaSmiCsvAndSkipsUnsupportedFields() {
    var samples = GpuMonitor.parse("""
        0, NVIDIA H100 80GB HBM3, 37, 40960, 81559
        1, NVIDIA T4, [N/A], 100, 15360
        garbage
        """);
    assertThat(samples).containsExactly(new GpuMonitor.GpuSample(0, "NVIDIA H100 80GB HBM3", 0.37,
        40960L * 1024 * 1024, 81559L * 1024 * 1024));
  }

  @Test
  void pollsTheProgramOnAWorkerThreadIntoGauges(Vertx vertx, @TempDir Path dir) throws Exception {
    Path counter = dir.resolve("calls");
    Path script = dir.resolve("nvidia-smi");
    Files.writeString(script, """
        #!/bin/sh
        case "$1" in --query-gpu=index,name,utilization.gpu,memory.used,memory.total) ;; *) exit 9;; esac
        echo x >> '%s'
        echo '0, NVIDIA H100 80GB HBM3, 91, 75000, 80000'
        """.formatted(counter));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    Optional<GpuMonitor> monitor = GpuMonitor.start(vertx, registry, Optional.of(script), 1);
    assertThat(monitor).isPresent();
    try {
      // the gauges are registered one by one on the poll's worker thread: wait for the last of them
      until("the first poll is scraped", Duration.ofSeconds(20),
          () -> registry.scrape().contains("deepchat_gpu_memory_total_bytes"));
      String text = registry.scrape();
      assertThat(text).contains("deepchat_gpu_utilization_ratio{gpu=\"0\",name=\"NVIDIA H100 80GB HBM3\"} 0.91")
          .contains("deepchat_gpu_memory_used_bytes{gpu=\"0\"} " + (double) (75000L * 1024 * 1024))
          .contains("deepchat_gpu_memory_total_bytes{gpu=\"0\"} " + (double) (80000L * 1024 * 1024));
      // polled again on the timer
      until("a second poll", Duration.ofSeconds(20), () -> Files.readAllLines(counter).size() >= 2);
      assertThat(Files.readAllLines(counter)).hasSizeGreaterThanOrEqualTo(2);
    } finally {
      monitor.get().close();
    }
  }

  @Test
  void withoutNvidiaSmiThereAreNoGpuGauges(Vertx vertx, @TempDir Path dir) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    assertThat(GpuMonitor.start(vertx, registry, Optional.of(dir.resolve("nvidia-smi")), 1)).isEmpty();
    assertThat(registry.scrape()).doesNotContain("deepchat_gpu");
  }
}
