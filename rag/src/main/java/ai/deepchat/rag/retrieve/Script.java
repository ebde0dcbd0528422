package ai.deepchat.rag.retrieve;

/** The writing system a text is mostly in, enough to tell a cross-language question from another. */
public enum Script {
  CJK, LATIN;

  /** CJK when CJK characters outnumber half the Latin letters (one CJK character carries about a word). */
  public static Script of(String text) {
    int cjk = 0;
    int latin = 0;
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      Character.UnicodeScript script = Character.UnicodeScript.of(c);
      if (script == Character.UnicodeScript.HAN || script == Character.UnicodeScript.HIRAGANA
          || script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HANGUL) {
        cjk++;
      } else if (script == Character.UnicodeScript.LATIN) {
        latin++;
      }
      i += Character.charCount(c);
    }
    return cjk * 2 >= latin && cjk > 0 ? CJK : LATIN;
  }
}
