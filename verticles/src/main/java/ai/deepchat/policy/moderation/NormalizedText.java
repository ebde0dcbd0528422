package ai.deepchat.policy.moderation;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Locale;

/**
 * Text folded for matching (NFKC, so full-width forms become half-width; case folded; invisible
 * format characters such as zero-width spaces dropped), with a map from every folded char back to
 * the original chars it came from, so a match can be masked in the original text.
 *
 * <p>Folding is per code point: a stream folds the same whichever way it is split into chunks.
 * Combining sequences are therefore not composed, which only matters for decomposed input.
 */
final class NormalizedText {

  final String text;
  /** Original start index (inclusive) of each folded char. */
  final int[] start;
  /** Original end index (exclusive) of each folded char. */
  final int[] end;

  private NormalizedText(String text, int[] start, int[] end) {
    this.text = text;
    this.start = start;
    this.end = end;
  }

  int length() {
    return text.length();
  }

  static NormalizedText of(CharSequence original) {
    int n = original.length();
    StringBuilder out = new StringBuilder(n);
    int[] start = new int[n + 8];
    int[] end = new int[n + 8];
    int i = 0;
    while (i < n) {
      int cp = Character.codePointAt(original, i);
      int next = i + Character.charCount(cp);
      String folded = fold(cp);
      for (int k = 0; k < folded.length(); k++) {
        if (out.length() == start.length) {
          start = Arrays.copyOf(start, start.length * 2);
          end = Arrays.copyOf(end, end.length * 2);
        }
        start[out.length()] = i;
        end[out.length()] = next;
        out.append(folded.charAt(k));
      }
      i = next;
    }
    return new NormalizedText(out.toString(), start, end);
  }

  /** The folded form of a whole word, as stored in the automaton. */
  static String foldWord(String word) {
    return of(word).text;
  }

  static String fold(int cp) {
    if (cp < 0x80) {
      return cp >= 'A' && cp <= 'Z' ? String.valueOf((char) (cp + 32)) : String.valueOf((char) cp);
    }
    if (Character.getType(cp) == Character.FORMAT) {
      // zero-width space/joiners, soft hyphen, bidi marks: invisible, used to slip words past filters
      return "";
    }
    String s = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFKC);
    // upper then lower approximates full case folding (ß -> ss, ﬁ -> fi after NFKC)
    return s.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
  }
}
