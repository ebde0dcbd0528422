package ai.deepchat.rag.ingest.format;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What Word's built-in paragraph style names say about structure (.docx and .doc alike). */
final class WordStyles {

  // "heading 2" (the name), "Heading2" (the id), "Überschrift 2" and "标题 2" in localized templates
  private static final Pattern HEADING = Pattern.compile("(?:heading|überschrift|titre|标题)\\s*([1-9])");

  private WordStyles() {
  }

  /**
   * 1 for the title style, 2-6 for heading 1 to 5 and deeper (so headings sit under the title in
   * section paths), else 0.
   */
  static int headingLevel(String styleName) {
    if (styleName.equals("title")) {
      return 1;
    }
    Matcher m = HEADING.matcher(styleName);
    return m.matches() ? Math.min(6, Integer.parseInt(m.group(1)) + 1) : 0;
  }

  /** 1 for a numbered list style ("list number"), -1 for a bulleted one ("list bullet"), else 0. */
  static int listKind(String styleName) {
    String name = styleName.replace(" ", ""); // names have spaces, ids ("ListBullet") have none
    if (name.startsWith("listnumber")) {
      return 1;
    }
    return name.startsWith("listbullet") || name.equals("listparagraph") ? -1 : 0;
  }
}
