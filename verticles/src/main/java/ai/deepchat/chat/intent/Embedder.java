package ai.deepchat.chat.intent;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallzhv15q.BgeSmallZhV15QuantizedEmbeddingModel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Sentence embeddings for FAQ matching: bge-small-zh v1.5 (quantized ONNX, in-process, handles
 * Chinese and English). Blocking: call from worker threads only. The model loads once per JVM on first
 * use; its ONNX session is thread-safe.
 */
public final class Embedder {

  private static volatile EmbeddingModel model;

  private Embedder() {
  }

  private static EmbeddingModel model() {
    EmbeddingModel m = model;
    if (m == null) {
      synchronized (Embedder.class) {
        m = model;
        if (m == null) {
          m = new BgeSmallZhV15QuantizedEmbeddingModel();
          model = m;
        }
      }
    }
    return m;
  }

  public static float[] embed(String text) {
    return model().embed(text).content().vector();
  }

  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length || a.length == 0) {
      return 0;
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }

  /** faq_entries.embedding: float32 little-endian. */
  public static byte[] toBytes(float[] vector) {
    ByteBuffer buf = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : vector) {
      buf.putFloat(f);
    }
    return buf.array();
  }

  public static float[] fromBytes(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[bytes.length / 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = buf.getFloat();
    }
    return v;
  }
}
