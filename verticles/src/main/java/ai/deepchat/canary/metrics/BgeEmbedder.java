package ai.deepchat.canary.metrics;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallzhv15q.BgeSmallZhV15QuantizedEmbeddingModel;

/**
 * bge-small-zh-v1.5 (quantized, in-process ONNX through langchain4j): handles Chinese and English,
 * the languages DeepSeek answers in. Loaded on first use (a few seconds, ~25 MB), then shared.
 */
public final class BgeEmbedder implements TextEmbedder {

  /** The model reads at most 512 tokens; longer answers are compared on their beginning. */
  private static final int MAX_CHARS = 2000;

  private volatile EmbeddingModel model;

  @Override
  public float[] embed(String text) {
    String clipped = text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) : text;
    return model().embed(clipped.isBlank() ? " " : clipped).content().vector();
  }

  private EmbeddingModel model() {
    EmbeddingModel m = model;
    if (m == null) {
      synchronized (this) {
        if (model == null) {
          model = new BgeSmallZhV15QuantizedEmbeddingModel();
        }
        m = model;
      }
    }
    return m;
  }
}
