package ai.deepchat.rag.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits prose into sentences, Chinese and English alike. The pieces partition the input exactly
 * (whitespace stays with the sentence before it), so concatenating neighbours restores the original.
 */
final class SentenceSplitter {

  private static final String CJK_ENDS = "。！？；…";
  private static final String LATIN_ENDS = "!?;";
  // Closing quotes and brackets belong to the sentence they end: 他说：“好。”
  private static final String CLOSERS = "”’」』）)]\"'";

  private SentenceSplitter() {
  }

  public static List<String> split(String text) {
    List<String> sentences = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      boolean end = CJK_ENDS.indexOf(c) >= 0 || c == '\n'
          || (LATIN_ENDS.indexOf(c) >= 0 || c == '.') && followedBySpace(text, i);
      i++;
      if (!end) {
        continue;
      }
      while (i < text.length() && (CJK_ENDS.indexOf(text.charAt(i)) >= 0
          || CLOSERS.indexOf(text.charAt(i)) >= 0)) {
        i++;
      }
      while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      sentences.add(text.substring(start, i));
      start = i;
    }
    if (start < text.length()) {
      sentences.add(text.substring(start));
    }
    return sentences;
  }

  // "3.14" and "e.g.x" are not sentence ends; ". " and a final "." are.
  private static boolean followedBySpace(String text, int i) {
    int next = i + 1;
    while (next < text.length() && CLOSERS.indexOf(text.charAt(next)) >= 0) {
      next++;
    }
    return next >= text.length() || Character.isWhitespace(text.charAt(next));
  }
}
