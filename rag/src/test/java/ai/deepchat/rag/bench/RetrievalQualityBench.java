package ai.deepchat.rag.bench;

import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.eval.EvalHarness;
import ai.deepchat.rag.eval.EvalQuestion;
import ai.deepchat.rag.eval.EvalReport;
import ai.deepchat.rag.retrieve.RetrievalStages;

import java.nio.file.Path;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.ToDoubleFunction;

/**
 * Quality mode of bench/rag ({@code --quality [--pad N]}): the project's bilingual evaluation set
 * (rag/src/test/resources/eval) through real ingestion and retrieval, then the retrieval p95 with the
 * knowledge base padded to N chunks (default 10,000) by generated help-centre notes, whose vectors are
 * cached (-Dbench.cache, default rag/target/bench-cache) so a re-run measures queries, not embedding,
 * and the p50/p95 of each retrieval stage.
 */
final class RetrievalQualityBench {

  private RetrievalQualityBench() {
  }

  private static double percentile(List<Double> values, double p) {
    return EvalReport.percentile(values.stream().mapToDouble(d -> d).toArray(), p);
  }

  private static void stage(String name, List<RetrievalStages> stages, ToDoubleFunction<RetrievalStages> part) {
    List<Double> values = stages.stream().map(part::applyAsDouble).toList();
    System.out.printf("  %-32s p50 %6.1f ms  p95 %6.1f ms%n", name, percentile(values, 0.50),
        percentile(values, 0.95));
  }

  static void run(int padTo) throws Exception {
    List<EvalQuestion> questions = EvalHarness.questions();
    try (EvalHarness harness = new EvalHarness(RagConfig::defaults)) {
      UUID kb = harness.knowledgeBase(null);
      EvalReport report = harness.evaluate(kb, questions);
      System.out.printf("%n== retrieval quality: %d questions over %d documents (bge-small-zh) ==%n",
          questions.size(), EvalHarness.documents().size());
      System.out.println("overall        " + report.overall());
      System.out.println("same-language  " + report.sameLanguage());
      System.out.println("cross-language " + report.crossLanguage());
      System.out.println("held-out cross-language (written after the lexicon) "
          + harness.evaluate(kb, EvalHarness.heldOut()).crossLanguage());
      report.results().stream().filter(r -> r.rank() != 1).forEach(r -> System.out.printf(
          "  rank %2d %s %s -> %s / %s (first: %s)%n", r.rank(), r.crossLanguage() ? "x" : " ",
          r.question().question(), r.question().document(), r.question().section(), r.topSection()));
      if (padTo <= 0) {
        return;
      }
      long start = System.nanoTime();
      Path cache = Path.of(System.getProperty("bench.cache", "rag/target/bench-cache"));
      int chunks = harness.pad(kb, padTo, cache);
      System.out.printf("%n== latency: knowledge base padded to %,d chunks in %.0f s (vectors cached in %s) ==%n",
          chunks, (System.nanoTime() - start) / 1e9, cache.toAbsolutePath());
      harness.evaluate(kb, questions); // warm-up: index load, JIT
      List<Double> millis = new ArrayList<>();
      EvalReport padded = null;
      for (int round = 0; round < 3; round++) {
        padded = harness.evaluate(kb, questions);
        padded.results().forEach(r -> millis.add(r.millis()));
      }
      System.out.printf("retrieval of one question (embedding, FAISS, full text, fusion): p50 %.1f ms, "
              + "p95 %.1f ms over %d queries%n", percentile(millis, 0.50), percentile(millis, 0.95), millis.size());
      List<RetrievalStages> stages = new ArrayList<>();
      for (int round = 0; round < 3; round++) {
        for (EvalQuestion q : questions) {
          stages.add(harness.timed(kb, q.question()).stages());
        }
      }
      System.out.println("stages over " + stages.size() + " queries (they overlap: the embeddings and the "
          + "full-text query start together, FAISS follows the embedding):");
      stage("query embedding (bge-small-zh)", stages, RetrievalStages::queryEmbeddingMs);
      stage("query embedding (bge-small-en)", stages, RetrievalStages::englishEmbeddingMs);
      stage("FAISS search", stages, RetrievalStages::faissMs);
      stage("full-text query", stages, RetrievalStages::fullTextMs);
      stage("loading the hits", stages, RetrievalStages::loadingMs);
      stage("fusion", stages, RetrievalStages::fusionMs);
      stage("total", stages, RetrievalStages::totalMs);
      System.out.println("quality at that size: " + padded.overall());
    }
  }
}
