package ai.deepchat.rag.eval;

import ai.deepchat.platform.rag.Confidence;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;

/**
 * The routing thresholds an evaluation run measures the knowledge base at: retrieval answers when a
 * passage reaches {@code knowledge} (or one at {@code citation} the lexical search agrees on) and cites
 * the passages at {@code citation}. The tenant's own, or candidates given for one run and not saved.
 */
public record RunThresholds(double knowledge, double citation) {

  public static final RunThresholds DEFAULTS = new RunThresholds(Confidence.DEFAULT_THRESHOLDS.knowledge(),
      Confidence.DEFAULT_THRESHOLDS.citation());

  public RunThresholds {
    check("knowledge", knowledge);
    check("citation", citation);
  }

  /** These thresholds with the candidate's values where it has one ({@code null}: keep). */
  public RunThresholds with(Double candidateKnowledge, Double candidateCitation) {
    return new RunThresholds(candidateKnowledge == null ? knowledge : candidateKnowledge,
        candidateCitation == null ? citation : candidateCitation);
  }

  private static void check(String name, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw new RagException(RagError.INVALID_INPUT, "the " + name + " threshold must be between 0 and 1");
    }
  }
}
