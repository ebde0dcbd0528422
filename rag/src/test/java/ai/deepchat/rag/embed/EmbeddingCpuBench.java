package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import dev.langchain4j.model.embedding.onnx.bgesmallzhv15q.BgeSmallZhV15QuantizedEmbeddingModel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;

/**
 * CPU per embedding (run by bench/embed-cpu, not a test): bge-small-zh in the node's session
 * ({@link OnnxBge}: the caller's thread alone) against langchain4j's own session (ONNX Runtime's
 * defaults: an intra-op pool of one thread per core that spin-waits after each run), in one JVM,
 * alternating rounds, medians. Per short question, one at a time with a pause between (as questions
 * arrive): the caller's thread CPU, the process's CPU and the wall time. Per batch of passages split
 * over a pool of {@code --pool} threads, as ingestion splits it over the node's embeddings pool: wall
 * time and process CPU per passage. Options: --rounds 5 --questions 200 --pause-ms 2 --pool 2
 * --passages 64.
 */
public final class EmbeddingCpuBench {

  private static final List<String> QUESTIONS = List.of("how can i contact support", "怎么联系客服",
      "what is your return policy for lamps bought online", "hello there", "退款会退到哪里",
      "how long does shipping abroad take");
  private static final String PASSAGE = "我们的商店每天早上九点开门，晚上八点关门。Shipping abroad takes two weeks and "
      + "costs twenty dollars per parcel; returns are free within thirty days of delivery. ";
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private EmbeddingCpuBench() {
  }

  public static void main(String[] args) throws Exception {
    int rounds = option(args, "--rounds", 5);
    int questions = option(args, "--questions", 200);
    int pauseMs = option(args, "--pause-ms", 2);
    int pool = option(args, "--pool", 2);
    int passages = option(args, "--passages", 64);
    Embedder node = EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH);
    BgeSmallZhV15QuantizedEmbeddingModel defaults = new BgeSmallZhV15QuantizedEmbeddingModel(Runnable::run);
    Embedder langchain4j = new BgeEmbedder("langchain4j-defaults", 512, "", () -> defaults);
    List<Embedder> sessions = List.of(langchain4j, node);
    ExecutorService workers = Executors.newFixedThreadPool(pool);
    List<String> batch = new ArrayList<>();
    for (int i = 0; i < passages; i++) {
      batch.add(i + " " + PASSAGE.repeat(2));
    }
    for (Embedder e : sessions) { // loads and warms both up
      for (int i = 0; i < 100; i++) {
        e.embed(QUESTIONS.get(i % QUESTIONS.size()));
      }
      batch(workers, pool, e, batch);
    }
    double[][][] q = new double[sessions.size()][3][rounds];
    double[][][] b = new double[sessions.size()][2][rounds];
    for (int r = 0; r < rounds; r++) {
      for (int s = 0; s < sessions.size(); s++) {
        Embedder e = sessions.get(s);
        long thread0 = THREADS.getCurrentThreadCpuTime();
        long process0 = OS.getProcessCpuTime();
        long wall = 0;
        for (int i = 0; i < questions; i++) {
          long t0 = System.nanoTime();
          e.embed(QUESTIONS.get(i % QUESTIONS.size()));
          wall += System.nanoTime() - t0;
          LockSupport.parkNanos(pauseMs * 1_000_000L);
        }
        q[s][0][r] = (THREADS.getCurrentThreadCpuTime() - thread0) / 1e6 / questions;
        q[s][1][r] = (OS.getProcessCpuTime() - process0) / 1e6 / questions;
        q[s][2][r] = wall / 1e6 / questions;
        long p0 = OS.getProcessCpuTime();
        long w0 = System.nanoTime();
        batch(workers, pool, e, batch);
        b[s][0][r] = (System.nanoTime() - w0) / 1e6 / passages;
        b[s][1][r] = (OS.getProcessCpuTime() - p0) / 1e6 / passages;
      }
    }
    workers.shutdown();
    System.out.printf("medians of %d rounds; %d cores; questions one at a time, %d ms apart; batches of %d passages"
        + " (~%d characters) over %d threads%n", rounds, Runtime.getRuntime().availableProcessors(), pauseMs,
        passages, batch.get(0).length(), pool);
    System.out.println("| session | per question: caller CPU | process CPU | wall | per passage in a batch: wall | process CPU |");
    System.out.println("| --- | --- | --- | --- | --- | --- |");
    for (int s = 0; s < sessions.size(); s++) {
      System.out.printf("| %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms |%n",
          s == 0 ? "langchain4j defaults (before)" : "node session (after)", median(q[s][0]), median(q[s][1]),
          median(q[s][2]), median(b[s][0]), median(b[s][1]));
    }
  }

  /** The batch split over {@code pool} threads, as PassageEmbedding splits it over the embeddings pool. */
  private static void batch(ExecutorService workers, int pool, Embedder e, List<String> texts) throws Exception {
    int part = (texts.size() + pool - 1) / pool;
    List<Future<List<float[]>>> parts = new ArrayList<>();
    for (int i = 0; i < texts.size(); i += part) {
      List<String> slice = texts.subList(i, Math.min(texts.size(), i + part));
      parts.add(workers.submit(() -> e.embedPassages(slice)));
    }
    for (Future<List<float[]>> p : parts) {
      p.get();
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static int option(String[] args, String name, int fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return fallback;
  }
}
