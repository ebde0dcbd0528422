package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.ingest.TokenEstimator;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;

/**
 * A bge-small model run in process by langchain4j's ONNX runtime. bge v1.5 embeds passages as they
 * are and queries behind an instruction, which lifts short-query recall.
 */
final class BgeEmbedder implements Embedder {

  /**
   * The clipping rule of every embedding: bge-small reads 512 tokens, two of them [CLS] and [SEP], so a
   * text (with its instruction) is cut to its first 510 by {@link TokenEstimator}'s count (one per CJK
   * character, about one per four Latin letters, one per punctuation mark). Without it langchain4j
   * would tokenize a text of any length and average the windows, so a 100,000-character answer cost
   * 200 model runs on the pool.
   */
  static final int MAX_TOKENS = 510;

  private final String name;
  private final int dimension;
  private final String queryInstruction;
  private final Supplier<EmbeddingModel> model;

  BgeEmbedder(String name, int dimension, String queryInstruction, Supplier<EmbeddingModel> model) {
    this.name = name;
    this.dimension = dimension;
    this.queryInstruction = queryInstruction;
    this.model = model;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public List<float[]> embedPassages(List<String> texts) {
    return embedCounted(texts).vectors();
  }

  @Override
  public Counted embedCounted(List<String> texts) {
    List<String> clipped = texts.stream().map(BgeEmbedder::clip).toList();
    List<TextSegment> segments = clipped.stream().filter(t -> !t.isBlank()).map(TextSegment::from).toList();
    // the model refuses blank text: those get the zero vector, similar to nothing
    Response<List<Embedding>> response = segments.isEmpty() ? null : model.get().embedAll(segments);
    Iterator<Embedding> embedded = response == null ? List.<Embedding>of().iterator() : response.content().iterator();
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (String text : clipped) {
      vectors.add(text.isBlank() ? new float[dimension] : Vectors.normalize(embedded.next().vector()));
    }
    Integer tokens = response == null || response.tokenUsage() == null ? null : response.tokenUsage().inputTokenCount();
    return new Counted(vectors, tokens == null ? 0 : tokens);
  }

  @Override
  public boolean fits(String text) {
    return clip(text).length() == text.length();
  }

  @Override
  public float[] embedQuery(String query) {
    return query.isBlank() ? new float[dimension]
        : Vectors.normalize(model.get().embed(clip(queryInstruction + query)).content().vector());
  }

  static String clip(String text) {
    return text.substring(0, TokenEstimator.prefixWithin(text, 0, MAX_TOKENS));
  }
}
