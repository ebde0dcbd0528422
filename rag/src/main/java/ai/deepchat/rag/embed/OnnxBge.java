package ai.deepchat.rag.embed;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A bge ONNX model bundled by langchain4j (the same model and tokenizer files, CLS pooling, so the same
 * vectors), in a session opened with the options the node needs. langchain4j's own classes open theirs
 * with ONNX Runtime's defaults: an intra-op pool of one thread per core, whose threads spin-wait after
 * every run, so one short question's embedding took two to three times its own CPU (docs/performance.md,
 * issue #25). The node already runs embeddings side by side on its {@code embeddings} pool, so a run uses
 * the calling thread alone: no intra-op pool, nothing spinning, and the pool's size bounds the CPU.
 * Texts of one call run on the caller too (langchain4j's default is a pool of its own).
 */
final class OnnxBge extends AbstractInProcessEmbeddingModel {

  private final OnnxBertBiEncoder encoder;
  private final int dimension;

  private OnnxBge(OnnxBertBiEncoder encoder, int dimension) {
    super(Runnable::run);
    this.encoder = encoder;
    this.dimension = dimension;
  }

  /** Loads {@code <file>.onnx} and {@code <file>-tokenizer.json} from the classpath (a few seconds). */
  static OnnxBge load(String file, int dimension) {
    ClassLoader loader = OnnxBge.class.getClassLoader();
    try (InputStream model = loader.getResourceAsStream(file + ".onnx");
         InputStream tokenizer = loader.getResourceAsStream(file + "-tokenizer.json");
         OrtSession.SessionOptions options = options()) {
      if (model == null || tokenizer == null) {
        throw new IllegalStateException(file + " is not on the classpath");
      }
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      return new OnnxBge(new OnnxBertBiEncoder(env, env.createSession(model.readAllBytes(), options), tokenizer,
          PoolingMode.CLS), dimension);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot open " + file, e);
    }
  }

  /** One thread per run (the caller's), and no spin-waiting if a later option adds threads. */
  static OrtSession.SessionOptions options() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(1);
    options.setInterOpNumThreads(1);
    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    options.addConfigEntry("session.intra_op.allow_spinning", "0");
    options.addConfigEntry("session.inter_op.allow_spinning", "0");
    return options;
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
