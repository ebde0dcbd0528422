package ai.deepchat.rag.bench;

import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.eval.EvalHarness;
import ai.deepchat.rag.eval.EvalQuestion;
import ai.deepchat.rag.eval.EvalReport;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Quality mode of bench/rag ({@code --quality [--pad N] [--rounds R]}): the project's bilingual evaluation set
 * (rag/src/test/resources/eval) through real ingestion and retrieval, then the retrieval p95 with the
 * knowledge base padded to N chunks (default 10,000) by generated help-centre notes, whose vectors are
 * cached (-Dbench.cache, default rag/target/bench-cache) so a re-run measures queries, not embedding:
 * {@link RetrievalLatencyBench} then gives the p50/p95/p99 end to end and of each retrieval stage.
 */
final class RetrievalQualityBench {

  private RetrievalQualityBench() {
  }

  static void run(int padTo, int rounds) throws Exception {
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
      harness.analyze(); // else autovacuum would re-plan the full-text query in the middle of the rounds
      System.out.printf("%n== latency: knowledge base padded to %,d chunks in %.0f s (vectors cached in %s) ==%n",
          chunks, (System.nanoTime() - start) / 1e9, cache.toAbsolutePath());
      RetrievalLatencyBench.run(harness, kb, questions, rounds);
      System.out.println("quality at that size: " + harness.evaluate(kb, questions).overall());
    }
  }
}
