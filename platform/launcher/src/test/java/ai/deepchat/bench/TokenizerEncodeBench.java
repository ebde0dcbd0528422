package ai.deepchat.bench;

import ai.deepchat.tokenizer.BundledTokenizer;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The CPU of one token count with the bundled DeepSeek-V3 tokenizer (#25, docs/performance.md, "a turn counts only
 * its new text"): DJL's {@code encode} as the node calls it, and the ids alone through DJL's native library, for a
 * question, a short answer and a long text; thread CPU per call, three rounds. Argument: calls per text (20000).
 */
public final class TokenizerEncodeBench {

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    Path file = Files.createTempFile("tokenizer", ".json");
    BundledTokenizer.copy("tokenizer.json", file);
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file,
        Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"))) {
      long handle = hf.getHandle();
      String[] texts = {"What are your opening hours? #12345", " ok".repeat(16),
          "The quick brown fox jumps over the lazy dog. ".repeat(20)};
      for (int round = 0; round < 3; round++) {
        for (String t : texts) {
          long check = 0;
          long c0 = cpu();
          for (int i = 0; i < n; i++) {
            check += hf.encode(t, false, false).getIds().length;
          }
          long c1 = cpu();
          for (int i = 0; i < n; i++) {
            long encoding = TokenizersLibrary.LIB.encode(handle, t, false);
            check -= TokenizersLibrary.LIB.getTokenIds(encoding).length;
            TokenizersLibrary.LIB.deleteEncoding(encoding);
          }
          long c2 = cpu();
          System.out.printf("round %d, %4d chars: DJL encode %.1f us, ids alone %.1f us (same counts: %b)%n", round,
              t.length(), (c1 - c0) / 1e3 / n, (c2 - c1) / 1e3 / n, check == 0);
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static long cpu() {
    return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }
}
