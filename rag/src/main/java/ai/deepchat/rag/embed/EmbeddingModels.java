package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import dev.langchain4j.model.embedding.EmbeddingModel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The one registry of embedding models in the JVM: the models a knowledge base can name in
 * {@code embedding_model}, and {@link #BGE_SMALL_ZH} for FAQ matching and shadow-answer comparison.
 * Each ONNX model ({@link QuietOnnxModel}: the model jars' files, in a session that does not spin) is
 * loaded once per JVM, on first use (a few seconds, on the calling worker thread),
 * and shared by every caller: the runtime is thread-safe and a second session would only cost memory.
 */
public final class EmbeddingModels {

  public static final String BGE_SMALL_ZH = "bge-small-zh-v1.5-q";
  public static final String BGE_SMALL_EN = "bge-small-en-v1.5-q";

  /**
   * Where langchain4j runs the texts of one call: on the calling thread, a worker of the node's
   * {@code embeddings} pool. Its default is a pool of its own, one thread per core, which no pool size of
   * ours would bound.
   */
  private static final Executor ON_CALLER = Runnable::run;
  private static final Map<String, EmbeddingModel> LOADED = new ConcurrentHashMap<>();
  private static final Map<String, Embedder> EMBEDDERS = Map.of(
      BGE_SMALL_ZH, new BgeEmbedder(BGE_SMALL_ZH, 512, "为这个句子生成表示以用于检索相关文章：",
          shared(BGE_SMALL_ZH, () -> QuietOnnxModel.load("bge-small-zh-v1.5-q.onnx",
              "bge-small-zh-v1.5-q-tokenizer.json", 512, ON_CALLER))),
      BGE_SMALL_EN, new BgeEmbedder(BGE_SMALL_EN, 384,
          "Represent this sentence for searching relevant passages: ",
          shared(BGE_SMALL_EN, () -> QuietOnnxModel.load("bge-small-en-v1.5-q.onnx",
              "bge-small-en-v1.5-q-tokenizer.json", 384, ON_CALLER))));

  private EmbeddingModels() {
  }

  /** Every model by name, for the embeddings API. */
  public static Map<String, Embedder> all() {
    return EMBEDDERS;
  }

  public static boolean isKnown(String name) {
    return EMBEDDERS.containsKey(name);
  }

  public static Embedder get(String name) {
    Embedder embedder = EMBEDDERS.get(name);
    if (embedder == null) {
      throw new RagException(RagError.INVALID_INPUT, "unknown embedding model: " + name);
    }
    return embedder;
  }

  private static Supplier<EmbeddingModel> shared(String name, Supplier<EmbeddingModel> load) {
    return () -> LOADED.computeIfAbsent(name, n -> load.get());
  }
}
