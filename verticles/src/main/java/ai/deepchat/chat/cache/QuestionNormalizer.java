package ai.deepchat.chat.cache;

import java.text.Normalizer;
import java.util.Locale;

/**
 * The form in which two questions count as the same: NFKC (full-width and compatibility forms folded),
 * case-folded, whitespace collapsed and trimmed.
 */
public final class QuestionNormalizer {

  private QuestionNormalizer() {
  }

  public static String normalize(String text) {
    if (text == null) {
      return "";
    }
    String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC);
    // toUpperCase then toLowerCase folds case pairs that lowercasing alone misses (e.g. final sigma)
    String folded = nfkc.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
    return folded.replaceAll("(?U)\\s+", " ").strip();
  }
}
