package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.Engine;
import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.platform.engine.EngineMessages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LoRA adapters a worker serves over its base model: every folder under {@code <model>/adapters/}
 * that holds an {@code adapter_config.json} (Hugging Face PEFT format), served under the model key
 * {@code <base>+<folder>}. A bad adapter is logged and skipped: the base model and the other adapters
 * still serve. Loading blocks; call it on a worker thread.
 */
public final class ServedAdapters {
  private static final Logger LOG = LoggerFactory.getLogger(ServedAdapters.class);
  /** The folder under the model folder that holds the adapters. */
  public static final String FOLDER = "adapters";
  // the rule model keys follow (ENGINE_MODEL_KEY, model versions), so "<base>+<name>" is a valid key
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-]{0,99}");

  private ServedAdapters() {
  }

  /** Loads the adapters found under {@code modelDir}; returns engine adapter ids by served model key. */
  public static Map<String, Integer> load(String baseKey, Path modelDir, Engine engine) {
    Path root = modelDir.resolve(FOLDER);
    Map<String, Integer> served = new TreeMap<>();
    if (!Files.isDirectory(root)) {
      return Collections.unmodifiableMap(served);
    }
    try (Stream<Path> folders = Files.list(root)) {
      for (Path dir : folders.sorted().toList()) {
        String name = dir.getFileName().toString();
        if (!Files.isRegularFile(dir.resolve("adapter_config.json"))) {
          continue;
        }
        if (!NAME.matcher(name).matches()) {
          LOG.warn("LoRA adapter folder '{}' skipped: a name may use only letters, digits, '.', '_', '-'", dir);
          continue;
        }
        try {
          int id = engine.loadAdapter(dir);
          served.put(EngineMessages.adapterModelKey(baseKey, name), id);
          LOG.info("serving LoRA adapter '{}' over '{}' as model key '{}'", name, baseKey,
              EngineMessages.adapterModelKey(baseKey, name));
        } catch (EngineException e) {
          LOG.error("LoRA adapter '{}' not served: {}", dir, e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the adapters in " + root, e);
    }
    return Collections.unmodifiableMap(served);
  }
}
