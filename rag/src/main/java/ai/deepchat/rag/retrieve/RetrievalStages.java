package ai.deepchat.rag.retrieve;

/**
 * Where one retrieval's time went, in milliseconds, for bench/rag: looking up the knowledge base
 * comes first, then the stages run partly side by side (the query embeddings and the full-text query
 * start together once the knowledge base is known; FAISS follows the embedding), so they do not add
 * up to {@code totalMs}, which runs from the call to the fused hits. {@code englishEmbeddingMs} is 0
 * where English vectors do not apply.
 */
public record RetrievalStages(double lookupMs, double queryEmbeddingMs, double englishEmbeddingMs, double faissMs,
                              double fullTextMs, double loadingMs, double fusionMs, double totalMs) {

  /** Stamps taken along one retrieval (System.nanoTime); each stage writes its own. */
  static final class Clock {
    final long start = System.nanoTime();
    long looked;
    long embedded;
    long englishEmbedded;
    long searched;
    long fullText;
    long loadStarted;
    long loaded;
    long fused;

    static long now() {
      return System.nanoTime();
    }

    RetrievalStages stages() {
      return new RetrievalStages(ms(start, looked), ms(looked, embedded), ms(looked, englishEmbedded),
          ms(embedded, searched), ms(looked, fullText), ms(loadStarted, loaded), ms(loaded, fused), ms(start, fused));
    }

    private static double ms(long from, long to) {
      return from == 0 || to == 0 || to < from ? 0 : (to - from) / 1e6;
    }
  }
}
