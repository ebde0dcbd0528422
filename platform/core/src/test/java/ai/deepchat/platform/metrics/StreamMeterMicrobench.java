package ai.deepchat.platform.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Not a test: CPU time and bytes allocated per turn by its stream meters (start, 16 tokens, finish) on a
 * Prometheus registry, rounds 6-10 of 10; thread counters, so firm-ish under load (#25). Run: docs/performance.md,
 * fifteenth session, helper "turnloops".
 */
public class StreamMeterMicrobench {
  public static void main(String[] a) {
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    PlatformMetrics m = new PlatformMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
        new TenantLabels(List.of("t1"), 8));
    int n = 200_000;
    for (int r = 0; r < 10; r++) {
      long c0 = mx.getCurrentThreadCpuTime(), b0 = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
      for (int i = 0; i < n; i++) {
        StreamMetrics s = m.startStream("t1", "deepseek-chat");
        for (int t = 0; t < 16; t++) {
          s.tokens(1);
        }
        s.finish(StreamMetrics.Outcome.COMPLETE);
      }
      long c1 = mx.getCurrentThreadCpuTime(), b1 = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
      if (r >= 5) {
        System.out.printf("round %d: %.0f ns, %d B per turn%n", r, (c1 - c0) / (double) n, (b1 - b0) / n);
      }
    }
  }
}
