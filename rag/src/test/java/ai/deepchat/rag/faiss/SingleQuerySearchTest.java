package ai.deepchat.rag.faiss;

import com.sun.management.OperatingSystemMXBean;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A single-query search (what retrieval asks) runs on the calling thread alone: the process spends
 * about that thread's CPU time on it. With FAISS's OpenMP team, whose threads spin-wait after each
 * region, the other threads spent twice the caller's CPU on 2 cores (docs/performance.md, retrieval
 * latency). CPU time, unlike wall time, hardly moves with the machine's load.
 */
class SingleQuerySearchTest {

  private static final int DIM = 256;

  @Test
  void aSingleQuerySearchSpendsOnlyTheCallingThreadsCpu() {
    Random random = new Random(11);
    int n = 20_000;
    float[] data = new float[n * DIM];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian();
    }
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 10L * i;
    }
    float[][] queries = new float[240][DIM];
    for (float[] q : queries) {
      for (int j = 0; j < DIM; j++) {
        q[j] = (float) random.nextGaussian();
      }
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (FaissIndex index = FaissIndex.create(DIM, "Flat", Metric.INNER_PRODUCT)) {
      index.add(data, ids);
      long process = 0;
      long caller = 0;
      for (int i = 0; i < queries.length; i++) {
        if (i == 40) { // after a warm-up
          process = os.getProcessCpuTime();
          caller = threads.getCurrentThreadCpuTime();
        }
        assertThat(index.search(queries[i], 40).id(0, 0)).isNotNegative();
      }
      double callerMs = (threads.getCurrentThreadCpuTime() - caller) / 1e6;
      double othersMs = (os.getProcessCpuTime() - process) / 1e6 - callerMs;
      assertThat(othersMs).as("CPU ms of other threads during 200 searches that took the caller %.0f ms", callerMs)
          .isLessThan(0.5 * callerMs);
    }
  }
}
