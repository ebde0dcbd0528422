package ai.deepchat.rag.retrieve;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lexical side of a query, matching how chunks.lexical is built (V2__rag.sql): English words for
 * PostgreSQL's 'english' configuration, and CJK character bigrams with exactly the ranges of the SQL
 * function cjk_bigrams. Terms are letters and digits only, so they are safe inside a tsquery.
 *
 * @param words   "install | linux" for to_tsquery('english', ...), or empty
 * @param bigrams "'安装' | '装包'" as a literal tsquery, or empty
 */
record LexicalQuery(String words, String bigrams) {

  private static final Pattern CJK_RUN =
      Pattern.compile("[\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af]+");
  private static final Pattern WORD = Pattern.compile("[\\p{IsLatin}\\d]{2,}");
  private static final int MAX_TERMS = 64;

  public static LexicalQuery of(String query) {
    Set<String> words = new LinkedHashSet<>();
    Matcher word = WORD.matcher(query);
    while (word.find() && words.size() < MAX_TERMS) {
      words.add(word.group().toLowerCase(Locale.ROOT));
    }
    Set<String> bigrams = new LinkedHashSet<>();
    Matcher run = CJK_RUN.matcher(query);
    while (run.find() && bigrams.size() < MAX_TERMS) {
      String r = run.group();
      if (r.length() == 1) {
        bigrams.add(r);
      }
      for (int i = 0; i + 2 <= r.length(); i++) {
        bigrams.add(r.substring(i, i + 2));
      }
    }
    return new LexicalQuery(String.join(" | ", words),
        String.join(" | ", bigrams.stream().map(b -> "'" + b + "'").toList()));
  }

  public boolean isEmpty() {
    return words.isEmpty() && bigrams.isEmpty();
  }
}
