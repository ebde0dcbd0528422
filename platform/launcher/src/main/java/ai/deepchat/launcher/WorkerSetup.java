package ai.deepchat.launcher;

import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.gpu.worker.EngineWorkerVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.PlatformConfig;

import java.nio.file.Path;
import java.time.Duration;

/** Which model this node's engine worker serves: MODEL_DIR, or the bundled tiny test model. */
final class WorkerSetup {

  private WorkerSetup() {
  }

  static EngineWorkerVerticle worker(Platform platform) {
    PlatformConfig.Engine engine = platform.config().engine();
    Path dir = engine.modelDir().orElseGet(() -> TinyTestModel.ensure(platform.config().dataDir()));
    String key = engine.modelDir().isPresent()
        ? platform.config().chat().engineModelKey().orElse(modelKey(dir)) : TinyTestModel.MODEL_KEY;
    return new EngineWorkerVerticle(key, dir, options(engine), platform.nodeId(),
        Duration.ofSeconds(engine.drainSeconds()));
  }

  /** The engine's load options from the node's configuration. */
  static EngineOptions options(PlatformConfig.Engine engine) {
    boolean int8 = engine.quantization() == PlatformConfig.Engine.Quantization.INT8;
    return new EngineOptions(engine.backend(), engine.threads(), int8, engine.maxSequences(), 0);
  }

  /** The folder name, as Hugging Face names models ("DeepSeek-R1-Distill-Qwen-1.5B"). */
  static String modelKey(Path dir) {
    return dir.toAbsolutePath().normalize().getFileName().toString();
  }
}
