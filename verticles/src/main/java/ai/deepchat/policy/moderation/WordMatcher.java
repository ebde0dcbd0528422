package ai.deepchat.policy.moderation;

import org.ahocorasick.trie.Emit;
import org.ahocorasick.trie.Trie;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One tenant's sensitive words as an Aho-Corasick automaton over folded text (see
 * {@link NormalizedText}): Chinese and English, case- and width-insensitive. Words that begin or end
 * with an ASCII letter or digit match only at word boundaries on that side ("ass" does not match
 * "class"); CJK words match anywhere. Immutable and safe to share between threads.
 */
public final class WordMatcher {

  /** A match in the original text: chars [start, end) came from list entry {@code word}. */
  public record Match(int start, int end, String word) {
  }

  /** A match in folded coordinates: folded chars [start, end] inclusive. */
  record Hit(int start, int end, String word) {
  }

  /** Matches whose boundaries are known, and where an undecided match (right boundary at the end) begins. */
  record Scan(List<Hit> hits, int undecidedFrom) {
  }

  public static final WordMatcher EMPTY = new WordMatcher(null, Map.of(), 0);

  private final Trie trie;
  private final Map<String, String> entryByFolded;
  private final int maxWordLength;

  private WordMatcher(Trie trie, Map<String, String> entryByFolded, int maxWordLength) {
    this.trie = trie;
    this.entryByFolded = entryByFolded;
    this.maxWordLength = maxWordLength;
  }

  public static WordMatcher of(Collection<String> words) {
    Map<String, String> byFolded = new LinkedHashMap<>();
    int max = 0;
    for (String word : words) {
      if (word == null) {
        continue;
      }
      String folded = NormalizedText.foldWord(word.strip());
      if (folded.isBlank()) {
        continue;
      }
      byFolded.putIfAbsent(folded, word.strip());
      max = Math.max(max, folded.length());
    }
    if (byFolded.isEmpty()) {
      return EMPTY;
    }
    Trie trie = Trie.builder().addKeywords(byFolded.keySet()).build();
    return new WordMatcher(trie, Map.copyOf(byFolded), max);
  }

  public boolean isEmpty() {
    return trie == null;
  }

  /** Length of the longest word, in folded chars: what a stream must hold back, plus one. */
  public int maxWordLength() {
    return maxWordLength;
  }

  public int size() {
    return entryByFolded.size();
  }

  /** Every match in a complete text, in order of position. */
  public List<Match> find(String text) {
    if (isEmpty() || text.isEmpty()) {
      return List.of();
    }
    NormalizedText norm = NormalizedText.of(text);
    List<Match> matches = new ArrayList<>();
    for (Hit hit : scan(norm, -1, true).hits()) {
      matches.add(new Match(norm.start[hit.start()], norm.end[hit.end()], hit.word()));
    }
    return matches;
  }

  public boolean matches(String text) {
    return !find(text).isEmpty();
  }

  /** The text with every char of every match replaced by '*' (one per code point). */
  public String mask(String text) {
    return mask(text, find(text));
  }

  static String mask(String text, List<Match> matches) {
    if (matches.isEmpty()) {
      return text;
    }
    boolean[] masked = new boolean[text.length()];
    for (Match m : matches) {
      for (int i = m.start(); i < m.end(); i++) {
        masked[i] = true;
      }
    }
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int count = Character.charCount(cp);
      if (masked[i]) {
        out.append('*');
      } else {
        out.appendCodePoint(cp);
      }
      i += count;
    }
    return out.toString();
  }

  /**
   * Scans folded text. {@code before} is the folded char just before it (-1 at the start of a text),
   * for the left word boundary; when {@code atEnd} is false the text may continue, so a word ending
   * in a letter or digit at the very end is undecided.
   */
  Scan scan(NormalizedText norm, int before, boolean atEnd) {
    if (isEmpty() || norm.length() == 0) {
      return new Scan(List.of(), Integer.MAX_VALUE);
    }
    String s = norm.text;
    List<Hit> hits = new ArrayList<>();
    int undecided = Integer.MAX_VALUE;
    for (Emit emit : trie.parseText(s)) {
      String kw = emit.getKeyword();
      int start = emit.getStart();
      int end = emit.getEnd();
      if (isWordChar(kw.charAt(0))) {
        int prev = start > 0 ? s.charAt(start - 1) : before;
        if (prev >= 0 && isWordChar(prev)) {
          continue;
        }
      }
      if (isWordChar(kw.charAt(kw.length() - 1))) {
        if (end + 1 < s.length()) {
          if (isWordChar(s.charAt(end + 1))) {
            continue;
          }
        } else if (!atEnd) {
          undecided = Math.min(undecided, start);
          continue;
        }
      }
      hits.add(new Hit(start, end, entryByFolded.get(kw)));
    }
    hits.sort(Comparator.comparingInt(Hit::start).thenComparingInt(Hit::end));
    return new Scan(hits, undecided);
  }

  private static boolean isWordChar(int c) {
    return c < 0x80 && Character.isLetterOrDigit(c);
  }
}
