package ai.deepchat.rag.embed;

import ai.deepchat.platform.embed.Vectors;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallzhv15q.BgeSmallZhV15QuantizedEmbeddingModel;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The node's bge sessions ({@link OnnxBge}): the same vectors as langchain4j's own classes give, and
 * no thread of ONNX Runtime's own (whose spin-waiting cost more CPU than the model, issue #25).
 */
class OnnxBgeTest {

  private static final List<String> TEXTS = List.of("how can i contact support", "怎么联系客服",
      "What is your return policy for lamps bought online?", "营业时间是几点？我们的商店每天早上九点开门。",
      "为这个句子生成表示以用于检索相关文章：退款会退到哪里", "hello");

  @Test
  void givesTheVectorsOfLangchain4jsOwnSessions() {
    assertSameVectors(EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH)::embed,
        new BgeSmallZhV15QuantizedEmbeddingModel(Runnable::run));
    assertSameVectors(EmbeddingModels.get(EmbeddingModels.BGE_SMALL_EN)::embed,
        new BgeSmallEnV15QuantizedEmbeddingModel(Runnable::run));
  }

  private static void assertSameVectors(java.util.function.Function<String, float[]> ours, EmbeddingModel theirs) {
    for (String text : TEXTS) {
      float[] expected = Vectors.normalize(theirs.embed(text).content().vector());
      assertThat(Vectors.cosine(ours.apply(text), expected)).as(text).isCloseTo(1.0, within(1e-6));
    }
  }

  @Test
  void aRunStartsNoThreadOfItsOwn() throws Exception {
    // the control: a session with ONNX Runtime's defaults starts an intra-op pool on a multi-core machine;
    // threads it starts inherit the name of the thread that opened it, which is how they are counted
    int defaults = threadsLeftBy("ort-default", () -> run(new OrtSession.SessionOptions()));
    assumeThat(defaults).as("a default session's own threads (none on a single-core machine)").isPositive();
    assertThat(threadsLeftBy("ort-node", () -> OnnxBge.load("bge-small-zh-v1.5-q", 512).embed("怎么联系客服")))
        .as("threads started by the node's session").isZero();
  }

  private static void run(OrtSession.SessionOptions options) {
    try (InputStream model = OnnxBgeTest.class.getClassLoader().getResourceAsStream("bge-small-zh-v1.5-q.onnx")) {
      OrtEnvironment.getEnvironment().createSession(model.readAllBytes(), options);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs {@code task} on a thread named {@code name}; the threads of that name still alive once it ended,
   * but for the thread itself (its task may outlive join() a moment).
   */
  private static int threadsLeftBy(String name, Runnable task) throws Exception {
    AtomicReference<Throwable> failed = new AtomicReference<>();
    AtomicReference<String> self = new AtomicReference<>();
    Thread thread = new Thread(() -> {
      try {
        self.set(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      task.run();
    }, name);
    thread.setUncaughtExceptionHandler((t, e) -> failed.set(e));
    thread.start();
    thread.join();
    assertThat(failed.get()).isNull();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      return (int) tasks.filter(t -> comm(t).equals(name) && !t.getFileName().toString().equals(self.get())).count();
    }
  }

  private static String comm(Path task) {
    try {
      return Files.readString(task.resolve("comm")).strip();
    } catch (IOException e) { // the thread ended meanwhile
      return "";
    }
  }
}
