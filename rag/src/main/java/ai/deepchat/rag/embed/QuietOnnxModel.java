package ai.deepchat.rag.embed;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.Executor;

/**
 * A bge model of langchain4j's model jars, run by its ONNX encoder in a session whose intra-op threads
 * sleep between operators instead of spinning. ONNX Runtime's default spin-waiting made a query's two
 * embeddings (bge-small-zh and bge-small-en side by side) cost about 40 ms of CPU on 2 cores instead
 * of 17, taking the cores from each other, from PostgreSQL's full-text query and from FAISS
 * (docs/performance.md, retrieval latency). The thread count stays ONNX Runtime's default (one per
 * physical core), so one embedding alone still spreads over the cores.
 */
final class QuietOnnxModel extends AbstractInProcessEmbeddingModel {

  private final OnnxBertBiEncoder encoder;
  private final int dimension;

  private QuietOnnxModel(OnnxBertBiEncoder encoder, int dimension, Executor executor) {
    super(executor);
    this.encoder = encoder;
    this.dimension = dimension;
  }

  /**
   * Loads {@code onnx} and {@code tokenizer}, resources of the model's jar (CLS pooling, as bge is
   * trained); {@code executor} runs the texts of one call.
   */
  static EmbeddingModel load(String onnx, String tokenizer, int dimension, Executor executor) {
    return load(onnx, tokenizer, dimension, executor, 0);
  }

  /** {@code threads}: intra-op threads of the session (0: ONNX Runtime's default; 1: the calling thread alone). */
  static EmbeddingModel load(String onnx, String tokenizer, int dimension, Executor executor, int threads) {
    try (InputStream model = resource(onnx); InputStream vocabulary = resource(tokenizer);
         OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.setIntraOpNumThreads(threads);
      OrtEnvironment environment = OrtEnvironment.getEnvironment();
      OrtSession session = environment.createSession(model.readAllBytes(), options);
      return new QuietOnnxModel(new OnnxBertBiEncoder(environment, session, vocabulary, PoolingMode.CLS),
          dimension, executor);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot load " + onnx, e);
    }
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = QuietOnnxModel.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IOException("no model resource " + name + " on the class path");
    }
    return in;
  }

  @Override
  protected OnnxBertBiEncoder model() {
    return encoder;
  }

  @Override
  protected Integer knownDimension() {
    return dimension;
  }
}
