package ai.deepchat.rag.retrieve;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Bridges a question to documents in the other language with a bilingual help-centre lexicon
 * ({@code lexicon/help-centre-en-zh.tsv}): an English question yields the Chinese terms of the words it
 * uses, a Chinese one the English terms. bge-small-zh ranks an English question against Chinese text
 * (and the reverse) poorly, and the lexical index matches no term across languages; the bridged terms
 * give both searches something to match. Pure and thread-safe.
 */
public final class QueryBridge {

  private static final Pattern NOT_WORD = Pattern.compile("[^a-z0-9]+");
  private static final QueryBridge HELP_CENTRE = load("/lexicon/help-centre-en-zh.tsv");

  private record Phrase(List<String> stems, List<String> chinese) {
  }

  private record Term(String chinese, String english) {
  }

  private final List<Phrase> phrases;
  private final List<Term> terms;

  private QueryBridge(List<Phrase> phrases, List<Term> terms) {
    this.phrases = phrases.stream().sorted(Comparator.comparingInt((Phrase p) -> -p.stems().size())).toList();
    this.terms = terms.stream().sorted(Comparator.comparingInt((Term t) -> -t.chinese().length())).toList();
  }

  public static QueryBridge helpCentre() {
    return HELP_CENTRE;
  }

  /** The other language's terms for what {@code query} asks, space-separated; empty when none is known. */
  public String bridge(String query) {
    Set<String> out = new LinkedHashSet<>();
    english(query, out);
    chinese(query, out);
    return String.join(" ", out);
  }

  private void english(String query, Set<String> out) {
    List<String> stems = Arrays.stream(NOT_WORD.split(query.toLowerCase(Locale.ROOT)))
        .filter(w -> !w.isEmpty()).map(QueryBridge::stem).toList();
    boolean[] used = new boolean[stems.size()];
    for (Phrase phrase : phrases) {
      int n = phrase.stems().size();
      for (int i = 0; i + n <= stems.size(); i++) {
        if (!anyUsed(used, i, n) && stems.subList(i, i + n).equals(phrase.stems())) {
          Arrays.fill(used, i, i + n, true);
          out.addAll(phrase.chinese());
        }
      }
    }
  }

  private void chinese(String query, Set<String> out) {
    boolean[] used = new boolean[query.length()];
    for (Term term : terms) {
      for (int at = query.indexOf(term.chinese()); at >= 0; at = query.indexOf(term.chinese(), at + 1)) {
        if (!anyUsed(used, at, term.chinese().length())) {
          Arrays.fill(used, at, at + term.chinese().length(), true);
          out.add(term.english());
        }
      }
    }
  }

  private static boolean anyUsed(boolean[] used, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (used[i]) {
        return true;
      }
    }
    return false;
  }

  /** A light suffix-stripper: enough that "expires", "expired" and "expire" meet, applied to both sides. */
  static String stem(String word) {
    String w = word;
    if (w.length() > 4 && w.endsWith("ies")) {
      w = w.substring(0, w.length() - 3) + "y";
    } else if (w.length() > 3 && w.endsWith("s") && !w.endsWith("ss")) {
      w = w.substring(0, w.length() - 1);
    }
    if (w.length() > 5 && w.endsWith("ing")) {
      w = w.substring(0, w.length() - 3);
    } else if (w.length() > 4 && w.endsWith("ed")) {
      w = w.substring(0, w.length() - 2);
    }
    if (w.length() > 4 && w.endsWith("e")) {
      w = w.substring(0, w.length() - 1);
    }
    return w;
  }

  static QueryBridge parse(List<String> lines) {
    List<Phrase> phrases = new ArrayList<>();
    List<Term> terms = new ArrayList<>();
    for (String line : lines) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] columns = line.split("\t");
      if (columns.length != 2) {
        throw new IllegalArgumentException("a lexicon line needs English and Chinese terms: " + line);
      }
      List<String> english = split(columns[0]);
      List<String> chinese = split(columns[1]);
      for (String e : english) {
        phrases.add(new Phrase(Arrays.stream(NOT_WORD.split(e.toLowerCase(Locale.ROOT)))
            .filter(w -> !w.isEmpty()).map(QueryBridge::stem).toList(), chinese));
      }
      for (String c : chinese) {
        if (c.codePoints().anyMatch(cp -> Character.UnicodeScript.of(cp) == Character.UnicodeScript.HAN)) {
          terms.add(new Term(c, english.get(0)));
        }
      }
    }
    return new QueryBridge(phrases, terms);
  }

  private static List<String> split(String column) {
    return Arrays.stream(column.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  private static QueryBridge load(String resource) {
    try (InputStream in = QueryBridge.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing lexicon " + resource);
      }
      return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
