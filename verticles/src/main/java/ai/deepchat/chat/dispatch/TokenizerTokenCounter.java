package ai.deepchat.chat.dispatch;

import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.gpu.text.DeepSeekTokenizer;
import ai.deepchat.platform.config.PlatformConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Exact counts with the model's own tokenizer (Hugging Face tokenizer.json through the gpu-worker's
 * {@link DeepSeekTokenizer}). Native code: call from worker threads. Without MODEL_DIR the DeepSeek-V3
 * tokenizer bundled with the test model is used, which is also the tokenizer of DeepSeek's API models.
 */
public final class TokenizerTokenCounter implements TokenCounter, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TokenizerTokenCounter.class);
  private static final String BUNDLED = "/ai/deepchat/gpu/testmodel/tokenizer.json";

  private final DeepSeekTokenizer tokenizer;

  public TokenizerTokenCounter(DeepSeekTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /** The serving model's tokenizer; the approximate counter only if no tokenizer can be loaded. Blocking. */
  public static TokenCounter forConfig(PlatformConfig config) {
    try {
      Optional<Path> modelDir = config.engine().modelDir();
      if (modelDir.isPresent() && Files.exists(modelDir.get().resolve(DeepSeekTokenizer.FILE_NAME))) {
        return new TokenizerTokenCounter(DeepSeekTokenizer.load(modelDir.get()));
      }
      return new TokenizerTokenCounter(DeepSeekTokenizer.load(bundled(config.dataDir()), Optional.empty()));
    } catch (RuntimeException e) {
      LOG.warn("no tokenizer could be loaded ({}); context budgets use a conservative estimate", e.getMessage());
      return new ApproxTokenCounter();
    }
  }

  /** The DeepSeek-V3 tokenizer.json shipped with the test model, extracted once into the data directory. */
  private static Path bundled(Path dataDir) {
    Path file = dataDir.resolve("models").resolve("tokenizers").resolve("deepseek-v3").resolve(DeepSeekTokenizer.FILE_NAME);
    if (Files.exists(file)) {
      return file;
    }
    try (InputStream in = TinyTestModel.class.getResourceAsStream(BUNDLED)) {
      if (in == null) {
        throw new IOException(BUNDLED + " is missing from the gpu-worker jar");
      }
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public int count(String text) {
    return text == null || text.isEmpty() ? 0 : tokenizer.encode(text, false).length;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
