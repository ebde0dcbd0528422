package ai.deepchat.chat.intent;

import java.util.HashSet;
import java.util.Set;

/**
 * The terms a question shares with an FAQ question, as a share of the FAQ question's terms: Latin
 * words of three letters or more that are not function words, and pairs of adjacent Chinese
 * characters, both read from {@link MatchText} form. The small bge model confuses short English
 * questions that share no word ("the best way to reach your support people" sits as close to "what
 * are your opening hours" as to "how can I contact customer support"); the words in common decide.
 */
final class SharedTerms {

  private static final Set<String> FUNCTION_WORDS = Set.of("the", "and", "you", "your", "yours", "can", "could",
      "how", "what", "where", "when", "which", "who", "whom", "why", "does", "did", "for", "with", "are", "was",
      "were", "this", "that", "these", "those", "have", "has", "had", "get", "there", "about", "from", "our",
      "ours", "out", "its", "any", "some", "please", "would", "should", "will", "shall", "may", "might", "into",
      "onto", "not", "but", "all", "too", "very", "just", "than", "then", "them", "they", "their", "she", "him",
      "her", "his", "hers", "mine", "yes", "way");

  private SharedTerms() {
  }

  /** Share (0 to 1) of {@code faq}'s terms that {@code question} has; both in MatchText form. */
  static double share(String question, String faq) {
    Set<String> faqTerms = terms(faq);
    if (faqTerms.isEmpty()) {
      return 0;
    }
    Set<String> asked = terms(question);
    long shared = faqTerms.stream().filter(asked::contains).count();
    return (double) shared / faqTerms.size();
  }

  static Set<String> terms(String text) {
    Set<String> terms = new HashSet<>();
    StringBuilder word = new StringBuilder();
    int previousHan = -1;
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      boolean han = Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN;
      if (han && previousHan >= 0) {
        terms.add(new String(Character.toChars(previousHan)) + new String(Character.toChars(c)));
      }
      previousHan = han ? c : -1;
      if (Character.isLetterOrDigit(c) && !han) {
        word.appendCodePoint(c);
      } else {
        addWord(terms, word);
      }
    }
    addWord(terms, word);
    return terms;
  }

  private static void addWord(Set<String> terms, StringBuilder word) {
    if (word.length() >= 3 && !FUNCTION_WORDS.contains(word.toString())) {
      terms.add(word.toString());
    }
    word.setLength(0);
  }
}
