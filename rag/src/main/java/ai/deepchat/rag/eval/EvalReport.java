package ai.deepchat.rag.eval;

import java.util.Arrays;
import java.util.List;

/** The outcome of one evaluation run: the figures overall, by language pairing, and per question. */
public record EvalReport(long knowledgeBaseVersion, List<QuestionResult> results) {

  public EvalMetrics overall() {
    return EvalMetrics.of(results.stream().map(QuestionResult::rank).toList());
  }

  public EvalMetrics sameLanguage() {
    return EvalMetrics.of(results.stream().filter(r -> !r.crossLanguage()).map(QuestionResult::rank).toList());
  }

  public EvalMetrics crossLanguage() {
    return EvalMetrics.of(results.stream().filter(QuestionResult::crossLanguage).map(QuestionResult::rank).toList());
  }

  /** Share of the questions the knowledge base would answer at the run's thresholds. */
  public double answeredRate() {
    return share(QuestionResult::answered);
  }

  /** Share of the questions answered with the expected passage among the citations. */
  public double citedRecall() {
    return share(QuestionResult::cited);
  }

  private double share(java.util.function.Predicate<QuestionResult> test) {
    return results.isEmpty() ? 0 : (double) results.stream().filter(test).count() / results.size();
  }

  /** 95th percentile of the per-question retrieval time in milliseconds. */
  public double p95Millis() {
    return percentile(results.stream().mapToDouble(QuestionResult::millis).toArray(), 0.95);
  }

  public static double percentile(double[] values, double q) {
    if (values.length == 0) {
      return 0;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }
}
