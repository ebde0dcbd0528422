package ai.deepchat.rag.retrieve;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reciprocal rank fusion (Cormack et al., 2009): each list adds 1 / (k + rank) for the ids it ranks,
 * rank counted from 1. It needs no score calibration between BM25-like and cosine scores.
 */
final class ReciprocalRankFusion {

  public static final int K = 60;

  private ReciprocalRankFusion() {
  }

  /** Fused score per id over the ranked lists, each best first. */
  public static Map<Long, Double> fuse(List<List<Long>> rankings) {
    return fuse(rankings, rankings.stream().map(r -> 1.0).toList());
  }

  /** The same with each list's terms multiplied by its weight ({@code weights} in the lists' order). */
  public static Map<Long, Double> fuse(List<List<Long>> rankings, List<Double> weights) {
    Map<Long, Double> fused = new HashMap<>();
    for (int list = 0; list < rankings.size(); list++) {
      List<Long> ranking = rankings.get(list);
      for (int i = 0; i < ranking.size(); i++) {
        fused.merge(ranking.get(i), weights.get(list) / (K + i + 1), Double::sum);
      }
    }
    return fused;
  }
}
