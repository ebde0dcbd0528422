package ai.deepchat.tokenizer.template;

/**
 * Rewrites a jinja2 template into one Jinjava renders the same way, for what the two lexers differ
 * in. Done on the source so Jinjava's parser stays untouched.
 *
 * <ul>
 *   <li>String literals: jinja2 decodes Python escapes ({@code '\n'} is a newline), and DeepSeek-R1
 *   templates depend on it: their generation prompt is {@code '<｜Assistant｜><think>\n'} with a
 *   backslash-n in the template text. Jinjava only knows {@code \\}, {@code \'} and {@code \"}
 *   and would print the backslash, so each literal is decoded here and re-escaped with only those
 *   (raw control characters inside a literal are fine for Jinjava).</li>
 *   <li>{@code lstrip_blocks} and {@code trim_blocks} (HF turns both on): Jinjava's lstrip also eats
 *   spaces before a tag in the middle of a line ({@code "a  {% if %}"}), jinja2's only from line
 *   starts, and Jinjava knows no {@code +} modifier to opt out. Both are applied here, so
 *   Jinjava runs with them off.</li>
 * </ul>
 * Text outside tags, and {@code {% raw %}} blocks, pass through untouched.
 */
final class Jinja2Source {

  private Jinja2Source() {
  }

  static String rewrite(String template) {
    StringBuilder out = new StringBuilder(template.length() + 16);
    int i = 0;
    int n = template.length();
    while (i < n) {
      int open = template.indexOf('{', i);
      if (open < 0 || open + 1 >= n) {
        out.append(template, i, n);
        break;
      }
      char kind = template.charAt(open + 1);
      if (kind != '{' && kind != '%' && kind != '#') {
        out.append(template, i, open + 1);
        i = open + 1;
        continue;
      }
      out.append(template, i, open);
      boolean block = kind != '{';
      char modifier = open + 2 < n ? template.charAt(open + 2) : ' ';
      if (block && modifier != '-' && modifier != '+') {
        lstrip(template, i, open, out);
      }
      int start = out.length();
      int stop;
      if (kind == '#') {
        int end = template.indexOf("#}", open + 2);
        stop = end < 0 ? n : end + 2;
        out.append(template, open, stop);
      } else {
        stop = copyTag(template, open, kind == '{' ? "}}" : "%}", out);
      }
      if (block && modifier == '+') {
        out.deleteCharAt(start + 2);
      }
      boolean raw = kind == '%' && isRawTag(template, open, stop);
      // jinja2 keeps the newline after {% raw %}: raw content is verbatim.
      if (block && !raw && stop >= 3 && template.startsWith("}", stop - 1)) {
        stop = trimAfter(template, stop, out);
      }
      if (raw) {
        int endRaw = findEndRaw(template, stop);
        out.append(template, stop, endRaw);
        stop = endRaw;
      }
      i = stop;
    }
    return out.toString();
  }

  /**
   * lstrip_blocks: drops the spaces and tabs between a source line start and a block or comment
   * tag. Judged on the source, as jinja2 does: a line start whose newline trim_blocks removed
   * still counts. Those characters are the tail of {@code out}, copied from {@code textStart} on.
   */
  private static void lstrip(String t, int textStart, int open, StringBuilder out) {
    int lineStart = t.lastIndexOf('\n', open - 1) + 1;
    if (lineStart < textStart) {
      return;
    }
    for (int k = lineStart; k < open; k++) {
      char c = t.charAt(k);
      if (c != ' ' && c != '\t') {
        return;
      }
    }
    out.setLength(out.length() - (open - lineStart));
  }

  /**
   * trim_blocks: skips the newline right after a block or comment tag, unless the tag ends with
   * {@code -} (Jinjava strips all whitespace itself) or {@code +} (kept, the modifier removed).
   */
  private static int trimAfter(String t, int stop, StringBuilder out) {
    char before = t.charAt(stop - 3);
    if (before == '-') {
      return stop;
    }
    if (before == '+') {
      out.deleteCharAt(out.length() - 3);
      return stop;
    }
    if (t.startsWith("\r\n", stop)) {
      return stop + 2;
    }
    return t.startsWith("\n", stop) ? stop + 1 : stop;
  }

  /** Copies one tag from {@code open} through its closer, rewriting literals; returns the end. */
  private static int copyTag(String t, int open, String close, StringBuilder out) {
    int i = open + 2;
    out.append(t, open, i);
    int n = t.length();
    int braces = 0; // a dict literal's "}}" must not end the tag
    while (i < n) {
      char c = t.charAt(i);
      if (c == '\'' || c == '"') {
        i = copyLiteral(t, i, out);
      } else if (braces == 0 && t.startsWith(close, i)) {
        out.append(close);
        return i + close.length();
      } else {
        braces += c == '{' ? 1 : c == '}' && braces > 0 ? -1 : 0;
        out.append(c);
        i++;
      }
    }
    return n; // unterminated tag: Jinjava reports it
  }

  private static int copyLiteral(String t, int start, StringBuilder out) {
    char quote = t.charAt(start);
    StringBuilder value = new StringBuilder();
    int i = start + 1;
    int n = t.length();
    while (i < n && t.charAt(i) != quote) {
      char c = t.charAt(i);
      if (c != '\\' || i + 1 >= n) {
        value.append(c);
        i++;
        continue;
      }
      i = decodeEscape(t, i + 1, value);
    }
    if (i >= n) {
      // Unterminated literal: leave it as written so Jinjava's error points at it.
      out.append(t, start, n);
      return n;
    }
    out.append(quote);
    for (int k = 0; k < value.length(); k++) {
      char c = value.charAt(k);
      if (c == '\\' || c == quote) {
        out.append('\\');
      }
      out.append(c);
    }
    out.append(quote);
    return i + 1;
  }

  /** Decodes the escape whose letter is at {@code i} (Python's rules); returns the index after. */
  private static int decodeEscape(String t, int i, StringBuilder value) {
    char e = t.charAt(i);
    switch (e) {
      case 'n' -> value.append('\n');
      case 't' -> value.append('\t');
      case 'r' -> value.append('\r');
      case 'b' -> value.append('\b');
      case 'f' -> value.append('\f');
      case 'v' -> value.append('\u000b');
      case 'a' -> value.append('\u0007');
      case '\\', '\'', '"' -> value.append(e);
      case '\n' -> { } // backslash-newline continues the line
      case 'x' -> {
        return hex(t, i, 2, value);
      }
      case 'u' -> {
        return hex(t, i, 4, value);
      }
      case 'U' -> {
        return hex(t, i, 8, value);
      }
      default -> {
        if (e >= '0' && e <= '7') {
          int end = i;
          while (end < t.length() && end < i + 3 && t.charAt(end) >= '0' && t.charAt(end) <= '7') {
            end++;
          }
          value.appendCodePoint(Integer.parseInt(t.substring(i, end), 8));
          return end;
        }
        // Python keeps unknown escapes verbatim, backslash included.
        value.append('\\').append(e);
      }
    }
    return i + 1;
  }

  private static int hex(String t, int i, int digits, StringBuilder value) {
    int end = i + 1 + digits;
    if (end <= t.length()) {
      String hex = t.substring(i + 1, end);
      if (hex.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
        value.appendCodePoint(Integer.parseInt(hex, 16));
        return end;
      }
    }
    value.append('\\').append(t.charAt(i));
    return i + 1;
  }

  private static boolean isRawTag(String t, int open, int stop) {
    String body = t.substring(open + 2, Math.max(open + 2, stop - 2)).strip();
    if (body.startsWith("-") || body.startsWith("+")) {
      body = body.substring(1).strip();
    }
    if (body.endsWith("-") || body.endsWith("+")) {
      body = body.substring(0, body.length() - 1).strip();
    }
    return body.equals("raw");
  }

  private static int findEndRaw(String t, int from) {
    int i = from;
    while (true) {
      int open = t.indexOf("{%", i);
      if (open < 0) {
        return t.length();
      }
      int close = t.indexOf("%}", open + 2);
      if (close < 0) {
        return t.length();
      }
      String body = t.substring(open + 2, close).replace("-", "").replace("+", "").strip();
      if (body.equals("endraw")) {
        return open; // the endraw tag itself is copied by the main loop
      }
      i = close + 2;
    }
  }
}
