package ai.deepchat.rag.bench;

import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.eval.EvalHarness;
import ai.deepchat.rag.eval.EvalQuestion;
import ai.deepchat.rag.eval.EvalReport;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Quality mode of bench/rag ({@code --quality [--pad N]}): the project's bilingual evaluation set
 * (rag/src/test/resources/eval) through real ingestion and retrieval, then the retrieval p95 with the
 * knowledge base padded to N chunks (default 10,000) by generated help-centre notes.
 */
final class RetrievalQualityBench {

  private RetrievalQualityBench() {
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
      int chunks = harness.pad(kb, padTo);
      System.out.printf("%n== latency: knowledge base padded to %,d chunks in %.0f s ==%n", chunks,
          (System.nanoTime() - start) / 1e9);
      harness.evaluate(kb, questions); // warm-up: index load, JIT
      List<Double> millis = new ArrayList<>();
      EvalReport padded = null;
      for (int round = 0; round < 3; round++) {
        padded = harness.evaluate(kb, questions);
        padded.results().forEach(r -> millis.add(r.millis()));
      }
      System.out.printf("retrieval of one question (embedding, FAISS, full text, fusion): p50 %.1f ms, "
              + "p95 %.1f ms over %d queries%n",
          EvalReport.percentile(millis.stream().mapToDouble(d -> d).toArray(), 0.50),
          EvalReport.percentile(millis.stream().mapToDouble(d -> d).toArray(), 0.95), millis.size());
      System.out.println("quality at that size: " + padded.overall());
    }
  }
}
