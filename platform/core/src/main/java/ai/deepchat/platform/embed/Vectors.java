package ai.deepchat.platform.embed;

import io.vertx.core.buffer.Buffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one place vectors are compared, normalized and stored: chunk embeddings, FAQ questions and
 * shadow answers all use these, so a score means the same everywhere.
 */
public final class Vectors {

  private Vectors() {
  }

  /** Scales {@code v} in place to unit length (a zero vector stays zero); returns it. */
  public static float[] normalize(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    if (norm > 0) {
      float scale = (float) (1 / Math.sqrt(norm));
      for (int i = 0; i < v.length; i++) {
        v[i] *= scale;
      }
    }
    return v;
  }

  /**
   * Cosine similarity in [-1, 1]; 0 when the lengths differ or either vector is zero (a blank text's
   * embedding), so such a pair never reaches a threshold. Computed in full, not as a dot product, so
   * vectors stored before normalization was the rule compare the same.
   */
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

  /** float32, little-endian: the layout FAISS and x86 share, and that of every stored embedding column. */
  public static Buffer encode(float[] vector) {
    ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(vector);
    return Buffer.buffer(bytes.array());
  }

  public static float[] decode(Buffer buffer) {
    float[] out = new float[buffer.length() / 4];
    ByteBuffer.wrap(buffer.getBytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }
}
