package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.tokenizer.BundledTokenizer;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.TokenizerRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Exact counts with the model's own tokenizer (Hugging Face tokenizer.json through platform-tokenizer's
 * {@link DeepSeekTokenizer}). Native code: call from worker threads. Without MODEL_DIR the DeepSeek-V3
 * tokenizer bundled in platform-tokenizer (the test model's) is used, which is also the tokenizer of
 * DeepSeek's API models. The native tokenizer is shared with this JVM's engine worker when it reads the
 * same tokenizer.json ({@link TokenizerRegistry}).
 */
public final class TokenizerTokenCounter implements TokenCounter, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TokenizerTokenCounter.class);

  private final DeepSeekTokenizer tokenizer;

  public TokenizerTokenCounter(DeepSeekTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /** The serving model's tokenizer; the approximate counter only if no tokenizer can be loaded. Blocking. */
  public static TokenCounter forConfig(PlatformConfig config) {
    try {
      Optional<Path> modelDir = config.engine().modelDir();
      if (modelDir.isPresent() && Files.exists(modelDir.get().resolve(DeepSeekTokenizer.FILE_NAME))) {
        return new TokenizerTokenCounter(TokenizerRegistry.acquire(modelDir.get()));
      }
      return new TokenizerTokenCounter(TokenizerRegistry.acquire(bundled(config.dataDir()), Optional.empty()));
    } catch (RuntimeException e) {
      LOG.warn("no tokenizer could be loaded ({}); context budgets use a conservative estimate", e.getMessage());
      return new ApproxTokenCounter();
    }
  }

  /** The bundled DeepSeek-V3 tokenizer.json, extracted once into the data directory. */
  private static Path bundled(Path dataDir) {
    Path file = dataDir.resolve("models").resolve("tokenizers").resolve("deepseek-v3").resolve(DeepSeekTokenizer.FILE_NAME);
    if (Files.exists(file)) {
      return file;
    }
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      BundledTokenizer.copy(DeepSeekTokenizer.FILE_NAME, tmp);
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
