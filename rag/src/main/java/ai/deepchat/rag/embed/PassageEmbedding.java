package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;

import java.util.ArrayList;
import java.util.List;

/**
 * Passages embedded on the node's {@code embeddings} pool, a batch split over its threads: one batch
 * (an upload's, a re-embedding's) can use the whole pool and never more.
 */
public final class PassageEmbedding {

  private final WorkerExecutor embeddings;
  private final int parallelism;

  /** @param embeddings the node's {@code embeddings} pool, of {@code parallelism} threads */
  public PassageEmbedding(WorkerExecutor embeddings, int parallelism) {
    this.embeddings = embeddings;
    this.parallelism = Math.max(1, parallelism);
  }

  /** The batch's vectors in order, its parts embedded side by side. */
  public Future<List<float[]>> embed(Embedder embedder, List<String> texts) {
    int part = Math.max(1, (texts.size() + parallelism - 1) / parallelism);
    List<Future<List<float[]>>> parts = new ArrayList<>();
    for (int i = 0; i < texts.size(); i += part) {
      List<String> slice = texts.subList(i, Math.min(texts.size(), i + part));
      parts.add(embeddings.executeBlocking(() -> embedder.embedPassages(slice), false));
    }
    return Future.all(parts).map(all -> {
      List<float[]> vectors = new ArrayList<>(texts.size());
      parts.forEach(p -> vectors.addAll(p.result()));
      return vectors;
    });
  }
}
