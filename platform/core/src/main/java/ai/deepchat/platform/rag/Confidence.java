package ai.deepchat.platform.rag;

import ai.deepchat.platform.chat.ChatMessages.RouteThresholds;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;

import java.util.List;

/**
 * When retrieval answers a question, shared by the intent router (which decides) and retrieval
 * evaluation (which measures a knowledge base at the tenant's thresholds, or at candidate ones).
 */
public final class Confidence {

  /** The thresholds of a tenant that set none (the column defaults of V12). */
  public static final RouteThresholds DEFAULT_THRESHOLDS = new RouteThresholds(0.67, 0.52, 0.45, 0.70);
  /** Hits the router retrieves per question. */
  public static final int TOP_K = 5;
  /**
   * A passage at the citation threshold whose terms the lexical search also found (ts_rank at least
   * this) makes retrieval confident as well: the two searches agree on it.
   */
  public static final double LEXICAL_AGREEMENT = 0.05;

  private Confidence() {
  }

  /** The hits given to the model and cited: those at the citation threshold. */
  public static List<RetrievedChunk> sources(List<RetrievedChunk> hits, double citation) {
    return hits.stream().filter(h -> h.vectorScore() >= citation).toList();
  }

  /** Whether the knowledge base answers: a source at the knowledge threshold, or one the lexical search agrees on. */
  public static boolean confident(List<RetrievedChunk> sources, double knowledge) {
    return sources.stream().anyMatch(h -> h.vectorScore() >= knowledge || h.lexicalScore() >= LEXICAL_AGREEMENT);
  }
}
