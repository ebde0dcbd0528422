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

  private static int wordTokens(int length) {
    return length == 0 ? 0 : (length + 3) / 4;
  }

  public static boolean isCjk(int cp) {
    Character.UnicodeScript script = Character.UnicodeScript.of(cp);
    return script == Character.UnicodeScript.HAN || script == Character.UnicodeScript.HIRAGANA
        || script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HANGUL;
  }
}
