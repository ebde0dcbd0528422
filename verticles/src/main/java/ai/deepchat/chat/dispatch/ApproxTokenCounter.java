package ai.deepchat.chat.dispatch;

/**
 * A conservative estimate for models whose tokenizer is not on this node (remote APIs): one token per
 * CJK character, one per three characters of other text, rounded up per word. DeepSeek's tokenizer
 * packs English at about four characters a token, so budgets computed with this never overflow.
 */
public final class ApproxTokenCounter implements TokenCounter {

  @Override
  public int count(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    int tokens = 0;
    int run = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isIdeographic(cp) || Character.UnicodeScript.of(cp) == Character.UnicodeScript.HANGUL
          || Character.UnicodeScript.of(cp) == Character.UnicodeScript.HIRAGANA
          || Character.UnicodeScript.of(cp) == Character.UnicodeScript.KATAKANA) {
        tokens += (run + 2) / 3 + 1;
        run = 0;
      } else if (Character.isWhitespace(cp)) {
        tokens += (run + 2) / 3;
        run = 0;
      } else if (Character.isLetterOrDigit(cp)) {
        run++;
      } else {
        tokens += (run + 2) / 3 + 1;
        run = 0;
      }
    }
    return tokens + (run + 2) / 3;
  }
}
