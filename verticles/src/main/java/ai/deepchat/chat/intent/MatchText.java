package ai.deepchat.chat.intent;

import ai.deepchat.chat.cache.QuestionNormalizer;
import com.ibm.icu.text.Transliterator;

import java.util.regex.Pattern;

/**
 * The form in which the router compares a question with FAQ questions and small-talk examples:
 * {@link QuestionNormalizer}'s (NFKC, so full-width folds to half-width; case folded; spaces
 * collapsed), traditional Chinese written as simplified (ICU's "Traditional-Simplified"), and
 * punctuation and symbols dropped, so "HOW CAN I CONTACT SUPPORT?", "how can i contact support" and
 * "怎麼聯繫客服？" meet their entries.
 */
final class MatchText {

  private static final Pattern PUNCTUATION = Pattern.compile("[\\p{P}\\p{S}]+");
  private static final Pattern SPACES = Pattern.compile("\\s+");
  /** ICU transliterators are not thread-safe: one per thread (the embeddings pool's few). */
  private static final ThreadLocal<Transliterator> SIMPLIFIED =
      ThreadLocal.withInitial(() -> Transliterator.getInstance("Traditional-Simplified"));

  private MatchText() {
  }

  /** Below the CJK radicals nothing is traditional Chinese: the transliterator leaves such text as it is. */
  static final char FIRST_CJK = '\u2E80';

  public static String of(String text) {
    String folded = QuestionNormalizer.normalize(text);
    String simplified = hasCjk(folded) ? SIMPLIFIED.get().transliterate(folded) : folded;
    return SPACES.matcher(PUNCTUATION.matcher(simplified).replaceAll(" ")).replaceAll(" ").strip();
  }

  /** Whether any char is at or above {@link #FIRST_CJK}: questions in other scripts skip ICU, whose rules scan every char. */
  static boolean hasCjk(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) >= FIRST_CJK) {
        return true;
      }
    }
    return false;
  }
}
