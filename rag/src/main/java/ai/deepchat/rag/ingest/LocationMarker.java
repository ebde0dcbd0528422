package ai.deepchat.rag.ingest;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Page or slide boundaries inside the Markdown that a format extractor writes: an HTML comment block
 * of its own, read back by {@link MarkdownChunker} only for extracted documents (never in an uploaded
 * Markdown file, where the same comment is just a comment). Extracted text can never forge one: the
 * extractors escape every line that could start an HTML block.
 */
public final class LocationMarker {

  private static final String PREFIX = "<!-- deepchat:location ";
  private static final String SUFFIX = " -->";
  private static final Pattern NUMBERED = Pattern.compile("(.*?)(\\d+)");

  private LocationMarker() {
  }

  /** The Markdown block that starts {@code label} ("p. 3", "slide 2"). */
  public static String block(String label) {
    return PREFIX + label + SUFFIX;
  }

  /** The label of a marker block, or null when {@code block} is not one. */
  static String label(String block) {
    String b = block.strip();
    return b.startsWith(PREFIX) && b.endsWith(SUFFIX) ? b.substring(PREFIX.length(), b.length() - SUFFIX.length())
        : null;
  }

  /** "p. 3" and "p. 5" give "p. 3–5"; equal labels give the label; null when there is none. */
  static String span(String first, String last) {
    if (first == null || last == null || first.equals(last)) {
      return first == null ? last : first;
    }
    Matcher a = NUMBERED.matcher(first);
    Matcher b = NUMBERED.matcher(last);
    if (a.matches() && b.matches() && a.group(1).equals(b.group(1))) {
      return first + "–" + b.group(2);
    }
    return first + " – " + last;
  }
}
