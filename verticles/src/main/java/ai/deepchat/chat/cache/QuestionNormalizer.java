package ai.deepchat.chat.cache;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The form in which two questions count as the same: NFKC (full-width and compatibility forms folded),
 * case-folded, whitespace collapsed and trimmed.
 */
public final class QuestionNormalizer {

  /** Compiled once: String.replaceAll compiles its pattern on every call (a turn normalizes its question). */
  private static final Pattern WHITESPACE = Pattern.compile("(?U)\\s+");

  private QuestionNormalizer() {
  }

  public static String normalize(String text) {
    if (text == null) {
      return "";
    }
    String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC);
    // toUpperCase then toLowerCase folds case pairs that lowercasing alone misses (e.g. final sigma)
    String folded = nfkc.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
    return WHITESPACE.matcher(folded).replaceAll(" ").strip();
  }
}
