package ai.deepchat.rag.bench;

import ai.deepchat.platform.embed.RecentVectors;
import ai.deepchat.rag.eval.EvalHarness;
import ai.deepchat.rag.eval.EvalQuestion;
import ai.deepchat.rag.eval.EvalReport;
import ai.deepchat.rag.retrieve.RetrievalStages;

import com.sun.management.OperatingSystemMXBean;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.ToDoubleFunction;

/**
 * The latency half of {@code bench/rag --quality}: every question of the evaluation set asked twice per
 * round, once through the retriever's event-bus address (what the chat pipeline waits for: the bus hop,
 * the codec, the reply) and once to the retriever itself with the time of each stage, alternating which
 * goes first. Warm-up rounds run until the end-to-end median settles (JIT, the index's first load,
 * PostgreSQL's caches) and are printed apart; then {@code rounds} measured rounds give p50/p95/p99.
 */
final class RetrievalLatencyBench {

  /** A round's end-to-end median within this fraction of the previous round's: warm. */
  private static final double SETTLED = 0.05;
  private static final int MIN_WARMUP_ROUNDS = 3;
  private static final int MAX_WARMUP_ROUNDS = 20;

  private record Round(List<Double> endToEnd, List<RetrievalStages> stages) {
  }

  private RetrievalLatencyBench() {
  }

  static void run(EvalHarness harness, UUID kb, List<EvalQuestion> questions, int rounds) throws Exception {
    System.out.println("load average at the start: " + loadAverage());
    System.out.println("warm-up rounds (" + questions.size() + " questions each, until the end-to-end p50 moves "
        + "less than " + Math.round(SETTLED * 100) + "% from the round before):");
    double previous = Double.NaN;
    int round = 0;
    while (round < MAX_WARMUP_ROUNDS) {
      Round r = round(harness, kb, questions, round++);
      double p50 = percentile(r.endToEnd(), 0.50);
      System.out.printf("  round %2d  end to end p50 %6.1f  p95 %6.1f ms   retriever total p50 %6.1f  p95 %6.1f ms%n",
          round, p50, percentile(r.endToEnd(), 0.95), percentile(r.stages(), RetrievalStages::totalMs, 0.50),
          percentile(r.stages(), RetrievalStages::totalMs, 0.95));
      if (round >= MIN_WARMUP_ROUNDS && Math.abs(p50 - previous) <= SETTLED * previous) {
        break;
      }
      previous = p50;
    }
    List<Double> endToEnd = new ArrayList<>();
    List<RetrievalStages> stages = new ArrayList<>();
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long jvmCpu = os.getProcessCpuTime();
    double postgresCpu = harness.postgresCpuMillis();
    for (int i = 0; i < rounds; i++) {
      Round r = round(harness, kb, questions, round++);
      endToEnd.addAll(r.endToEnd());
      stages.addAll(r.stages());
    }
    System.out.printf("measured: %d rounds, %d queries each way (the stages overlap: once the knowledge base is "
        + "looked up, the two query embeddings and the full-text query start together, FAISS follows the "
        + "bge-small-zh embedding)%n", rounds, endToEnd.size());
    stage("knowledge base lookup", stages, RetrievalStages::lookupMs);
    stage("query embedding (bge-small-zh)", stages, RetrievalStages::queryEmbeddingMs);
    stage("query embedding (bge-small-en)", stages, RetrievalStages::englishEmbeddingMs);
    stage("FAISS search", stages, RetrievalStages::faissMs);
    stage("full-text query", stages, RetrievalStages::fullTextMs);
    stage("loading the hits", stages, RetrievalStages::loadingMs);
    stage("fusion", stages, RetrievalStages::fusionMs);
    stage("retriever total", stages, RetrievalStages::totalMs);
    print("end to end (event bus)", endToEnd);
    int queries = endToEnd.size() + stages.size();
    System.out.printf("CPU per query (both ways alike): JVM %.1f ms, PostgreSQL %.1f ms%n",
        (os.getProcessCpuTime() - jvmCpu) / 1e6 / queries, (harness.postgresCpuMillis() - postgresCpu) / queries);
    System.out.println("load average at the end: " + loadAverage());
  }

  /** Each question over the bus and to the retriever; odd rounds ask the retriever first. */
  private static Round round(EvalHarness harness, UUID kb, List<EvalQuestion> questions, int index) throws Exception {
    List<Double> endToEnd = new ArrayList<>();
    List<RetrievalStages> stages = new ArrayList<>();
    for (EvalQuestion q : questions) {
      // every question as if new: the node's cache of recent question vectors would otherwise answer
      // the embeddings of every round after the first (bench/rag measures the cold path)
      RecentVectors.SHARED.clear();
      if (index % 2 == 1) {
        stages.add(harness.timed(kb, q.question()).stages());
        RecentVectors.SHARED.clear();
      }
      long start = System.nanoTime();
      harness.overBus(kb, q.question());
      endToEnd.add((System.nanoTime() - start) / 1e6);
      if (index % 2 == 0) {
        RecentVectors.SHARED.clear();
        stages.add(harness.timed(kb, q.question()).stages());
      }
    }
    return new Round(endToEnd, stages);
  }

  private static void stage(String name, List<RetrievalStages> stages, ToDoubleFunction<RetrievalStages> part) {
    print(name, stages.stream().map(part::applyAsDouble).toList());
  }

  private static void print(String name, List<Double> values) {
    System.out.printf("  %-32s p50 %6.1f  p95 %6.1f  p99 %6.1f ms%n", name, percentile(values, 0.50),
        percentile(values, 0.95), percentile(values, 0.99));
  }

  private static double percentile(List<RetrievalStages> stages, ToDoubleFunction<RetrievalStages> part, double p) {
    return percentile(stages.stream().map(part::applyAsDouble).toList(), p);
  }

  static double percentile(List<Double> values, double p) {
    return EvalReport.percentile(values.stream().mapToDouble(d -> d).toArray(), p);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }
}
