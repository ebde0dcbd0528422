package ai.deepchat.rag.eval;

import java.util.List;

/**
 * Figures over a group of questions. A rank is 1-based; 0 means the answer was not within
 * {@link RetrievalEvaluator#DEPTH} hits, which counts as a reciprocal rank of 0.
 */
public record EvalMetrics(int questions, double recallAt1, double recallAt5, double mrr) {

  public static EvalMetrics of(List<Integer> ranks) {
    if (ranks.isEmpty()) {
      return new EvalMetrics(0, 0, 0, 0);
    }
    double at1 = 0;
    double at5 = 0;
    double reciprocal = 0;
    for (int rank : ranks) {
      at1 += rank == 1 ? 1 : 0;
      at5 += rank >= 1 && rank <= 5 ? 1 : 0;
      reciprocal += rank >= 1 ? 1.0 / rank : 0;
    }
    int n = ranks.size();
    return new EvalMetrics(n, at1 / n, at5 / n, reciprocal / n);
  }

  @Override
  public String toString() {
    return String.format("n=%d recall@1 %.3f  recall@5 %.3f  MRR %.3f", questions, recallAt1, recallAt5, mrr);
  }
}
