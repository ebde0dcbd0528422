package ai.deepchat.rag.embed;

import com.sun.management.OperatingSystemMXBean;
import dev.langchain4j.model.embedding.EmbeddingModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedding models do not burn CPU spin-waiting: a retrieval's two query embeddings, run side by
 * side as the retriever runs them, cost about the CPU time of the same work on one thread per model
 * (a session without a thread pool cannot spin). ONNX Runtime's default, spinning intra-op threads made
 * them cost 2.3 times that on 2 cores (docs/performance.md, retrieval latency). CPU time, unlike wall
 * time, hardly moves with the machine's load.
 */
class QuietOnnxModelTest {

  private static final ExecutorService SIDE_BY_SIDE = Executors.newFixedThreadPool(2);
  private static final String[] QUESTIONS = {
      "年付会员买了之后不想用了，能全额退钱吗？ annual membership refund",
      "Who pays the customs charges when you send an order overseas? 海关 关税",
      "How long can I use the code you text me when I sign up? 验证码 注册"};

  @AfterAll
  static void stop() {
    SIDE_BY_SIDE.shutdownNow();
  }

  /** Process CPU milliseconds per pair of query embeddings, after a warm-up. */
  private static double cpuPerPair(Function<String, float[]> zh, Function<String, float[]> en) throws Exception {
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    int warmUp = 20;
    int measured = 40;
    long start = 0;
    for (int i = 0; i < warmUp + measured; i++) {
      if (i == warmUp) {
        start = os.getProcessCpuTime();
      }
      String question = QUESTIONS[i % QUESTIONS.length];
      Future<float[]> a = SIDE_BY_SIDE.submit(() -> zh.apply(question));
      Future<float[]> b = SIDE_BY_SIDE.submit(() -> en.apply(question));
      a.get();
      b.get();
    }
    return (os.getProcessCpuTime() - start) / 1e6 / measured;
  }

  private static Function<String, float[]> onOneThread(String name, int dimension) {
    EmbeddingModel model = QuietOnnxModel.load(name + ".onnx", name + "-tokenizer.json", dimension, Runnable::run, 1);
    return text -> model.embed(text).content().vector();
  }

  @Test
  void twoQueryEmbeddingsSideBySideCostAboutTheirWorkInCpuTime() throws Exception {
    // the same texts both ways (embedQuery would add bge's query instruction)
    double served = cpuPerPair(text -> EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH).embed(text),
        text -> EnglishVectors.model().embed(text));
    double work = cpuPerPair(onOneThread("bge-small-zh-v1.5-q", 512), onOneThread("bge-small-en-v1.5-q", 384));
    assertThat(served).as("CPU ms per pair of query embeddings (one thread per model: %.1f ms)", work)
        .isLessThan(1.6 * work);
  }
}
