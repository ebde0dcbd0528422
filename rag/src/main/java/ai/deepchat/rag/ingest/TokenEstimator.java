package ai.deepchat.rag.ingest;

/**
 * Approximates the bge WordPiece token count without running the tokenizer: one token per CJK
 * character (bge's vocabulary splits Chinese per character), about one per four Latin letters of a
 * word, one per punctuation mark. Good enough for a chunk budget.
 */
public final class TokenEstimator {

  private TokenEstimator() {
  }

  public static int estimate(CharSequence text) {
    int tokens = 0;
    int wordLength = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = Character.codePointAt(text, i);
      i += Character.charCount(cp);
      if (Character.isLetterOrDigit(cp) && !isCjk(cp)) {
        wordLength++;
        continue;
      }
      tokens += wordTokens(wordLength);
      wordLength = 0;
      if (!Character.isWhitespace(cp)) {
        tokens++;
      }
    }
    return tokens + wordTokens(wordLength);
  }

  /**
   * The end of the longest run of {@code text} from {@code from} whose estimate stays within
   * {@code budget}, counted in one pass (the estimate only grows as the run grows); at least one code
   * point, so a caller cutting text into runs always moves on.
   */
  public static int prefixWithin(CharSequence text, int from, int budget) {
    int tokens = 0;
    int wordLength = 0;
    int i = from;
    while (i < text.length()) {
      int cp = Character.codePointAt(text, i);
      int committed = tokens;
      int word = wordLength;
      if (Character.isLetterOrDigit(cp) && !isCjk(cp)) {
        word++;
      } else {
        committed += wordTokens(word) + (Character.isWhitespace(cp) ? 0 : 1);
        word = 0;
      }
      if (committed + wordTokens(word) > budget && i > from) {
        return i;
      }
      tokens = committed;
      wordLength = word;
      i += Character.charCount(cp);
    }
    return i;
  }

  private static int wordTokens(int length) {
    return length == 0 ? 0 : (length + 3) / 4;
  }

  public static boolean isCjk(int cp) {
    Character.UnicodeScript script = Character.UnicodeScript.of(cp);
    return script == Character.UnicodeScript.HAN || script == Character.UnicodeScript.HIRAGANA
        || script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HANGUL;
  }
}
