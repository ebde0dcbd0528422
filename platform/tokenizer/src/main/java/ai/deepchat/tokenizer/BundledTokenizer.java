package ai.deepchat.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The DeepSeek-V3 tokenizer shipped in this jar ({@value DeepSeekTokenizer#FILE_NAME} and
 * {@value TokenizerConfig#FILE_NAME}): the bundled test model's, and the one that counts tokens for
 * DeepSeek's API models when no model folder is configured. Kept here, beside the code that reads
 * it, so neither the engine nor the pipeline depends on the other for it.
 */
public final class BundledTokenizer {

  private static final String RESOURCES = "/ai/deepchat/tokenizer/deepseek-v3/";

  private BundledTokenizer() {
  }

  /** Writes the bundled file {@code name} (one of the two above) to {@code target}, replacing it. */
  public static void copy(String name, Path target) throws IOException {
    try (InputStream in = BundledTokenizer.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IOException("resource " + RESOURCES + name + " missing from the platform-tokenizer jar");
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
