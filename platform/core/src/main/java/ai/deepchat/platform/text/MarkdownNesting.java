package ai.deepchat.platform.text;

/**
 * How deeply Markdown nests lists and block quotes, found by scanning lines (no parsing). flexmark
 * parses and renders nested containers recursively, so a few hundred levels ("- - - - …" or
 * "> > > …", a few KB of text) overflow a thread's stack, and thousands cost seconds; callers refuse or
 * flatten text deeper than {@link #MAX_DEPTH} before flexmark sees it. The count is an upper bound:
 * each list marker or '>' opening a line is a level, and so is every two columns of indentation
 * before one (a nested list item needs at least two). Linear in the text, allocation-free.
 */
public final class MarkdownNesting {

  /** Deeper than any real document needs, far below what overflows a 512 KB stack. */
  public static final int MAX_DEPTH = 32;

  private MarkdownNesting() {
  }

  /** True when some line of {@code text} nests deeper than {@link #MAX_DEPTH}. */
  public static boolean tooDeep(CharSequence text) {
    return firstLineDeeperThan(text, MAX_DEPTH) >= 0;
  }

  /** The 1-based number of the first line nesting deeper than {@code limit}, or -1 when none does. */
  public static int firstLineDeeperThan(CharSequence text, int limit) {
    int line = 1;
    int i = 0;
    int n = text.length();
    boolean fenced = false;
    while (i < n) {
      int columns = 0;
      while (i < n && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
        columns += text.charAt(i) == '\t' ? 4 - columns % 4 : 1;
        i++;
      }
      boolean fence = startsWith(text, i, "```") || startsWith(text, i, "~~~");
      fenced = fenced != fence;
      int markers = 0;
      int next;
      // code inside fences is not Markdown: deeply indented YAML or "- " lines there nest nothing
      while (!fenced && !fence && (next = afterMarker(text, i)) > i) {
        markers++;
        i = next;
        while (i < n && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
          i++;
        }
      }
      if (markers > 0 && markers + columns / 2 > limit) {
        return line;
      }
      while (i < n && text.charAt(i) != '\n') {
        i++;
      }
      i++;
      line++;
    }
    return -1;
  }

  private static boolean startsWith(CharSequence text, int i, String prefix) {
    if (i + prefix.length() > text.length()) {
      return false;
    }
    for (int k = 0; k < prefix.length(); k++) {
      if (text.charAt(i + k) != prefix.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  // Where a container marker at i ends ('>', "-", "*", "+", "1." or "1)" then a space or line end), else i.
  private static int afterMarker(CharSequence text, int i) {
    int n = text.length();
    if (i >= n) {
      return i;
    }
    char c = text.charAt(i);
    if (c == '>') {
      return i + 1;
    }
    int end = i;
    if (c == '-' || c == '*' || c == '+') {
      end = i + 1;
    } else {
      while (end < n && end - i < 9 && Character.isDigit(text.charAt(end))) {
        end++;
      }
      if (end == i || end >= n || (text.charAt(end) != '.' && text.charAt(end) != ')')) {
        return i;
      }
      end++;
    }
    boolean spaced = end >= n || text.charAt(end) == ' ' || text.charAt(end) == '\t' || text.charAt(end) == '\n'
        || text.charAt(end) == '\r';
    return spaced ? end : i;
  }
}
