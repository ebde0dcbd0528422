package ai.deepchat.rag.embed;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A bge-small model run in process by langchain4j's ONNX runtime. bge v1.5 embeds passages as they
 * are and queries behind an instruction, which lifts short-query recall.
 */
final class BgeEmbedder implements Embedder {

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
    List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
    List<float[]> vectors = new ArrayList<>(texts.size());
    model.get().embedAll(segments).content().forEach(e -> vectors.add(normalize(e.vector())));
    return vectors;
  }

  @Override
  public float[] embedQuery(String query) {
    return normalize(model.get().embed(queryInstruction + query).content().vector());
  }

  static float[] normalize(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    if (norm > 0) {
      float scale = (float) (1 / Math.sqrt(norm));
      for (int i = 0; i < v.length; i++) {
        v[i] *= scale;
      }
    }
    return v;
  }
}
