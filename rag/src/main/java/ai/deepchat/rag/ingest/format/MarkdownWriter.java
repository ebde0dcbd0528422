package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.ingest.LocationMarker;
import ai.deepchat.rag.ingest.ParseDeadline;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The Markdown an extractor writes: headings, paragraphs, list items, tables and page markers, each a
 * block of its own. Text from the document is escaped wherever Markdown would read it as structure, so
 * only the extractor decides what is a heading, a table or a page. Each block checks the parse deadline
 * and the size of what was written, so a document that expands to too much text stops early.
 */
final class MarkdownWriter {

  // a line that Markdown would read as a heading, quote, list item, fence, table row, HTML block or break
  private static final Pattern BLOCK_START = Pattern.compile("^([#>+*\\-|<=_~`]|\\d{1,9}[.)])");

  private final StringBuilder out = new StringBuilder();
  private final String sourceName;
  private final ParseDeadline deadline;
  private final int maxChars;

  MarkdownWriter(String sourceName, ParseDeadline deadline) {
    this.sourceName = sourceName;
    this.deadline = deadline;
    this.maxChars = FormatLimits.MAX_TEXT_CHARS;
  }

  MarkdownWriter heading(int level, String text) {
    String line = inline(text);
    return line.isEmpty() ? this : block("#".repeat(Math.max(1, Math.min(6, level))) + " " + line);
  }

  MarkdownWriter paragraph(String text) {
    StringBuilder lines = new StringBuilder();
    for (String line : text.split("\\R")) {
      String escaped = escapeLine(line.strip());
      if (!escaped.isEmpty()) {
        lines.append(lines.length() == 0 ? "" : "\n").append(escaped);
      }
    }
    return lines.length() == 0 ? this : block(lines.toString());
  }

  /** One item of a list, {@code depth} 0 at the outermost level; items of one list are not separated. */
  MarkdownWriter listItem(int depth, boolean ordered, String text) {
    String line = inline(text);
    if (line.isEmpty()) {
      return this;
    }
    trimBlankLine();
    return block("  ".repeat(Math.max(0, Math.min(8, depth)) * (ordered ? 2 : 1)) + (ordered ? "1. " : "- ")
        + escapeLine(line));
  }

  /** A table whose first row is its header; rows are padded to the widest. */
  MarkdownWriter table(List<List<String>> rows) {
    int width = rows.stream().mapToInt(List::size).max().orElse(0);
    if (width == 0 || rows.stream().allMatch(r -> r.stream().allMatch(c -> inline(c).isEmpty()))) {
      return this;
    }
    StringBuilder table = new StringBuilder();
    for (int r = 0; r < rows.size(); r++) {
      table.append('|');
      for (int c = 0; c < width; c++) {
        String cell = c < rows.get(r).size() ? inline(rows.get(r).get(c)) : "";
        table.append(' ').append(cell.replace("\\", "\\\\").replace("|", "\\|")).append(" |");
      }
      table.append('\n');
      if (r == 0) {
        table.append("|").append(" --- |".repeat(width)).append('\n');
      }
    }
    return block(table.toString().strip());
  }

  /** The following blocks are on {@code label} ("p. 3", "slide 2"). */
  MarkdownWriter location(String label) {
    return block(LocationMarker.block(label));
  }

  /** Characters of text written so far (markers and syntax included). */
  int length() {
    return out.length();
  }

  String markdown() {
    return out.toString();
  }

  private MarkdownWriter block(String markdown) {
    deadline.check();
    if (out.length() + markdown.length() > maxChars) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + " holds more than " + maxChars
          + " characters of text; split it into smaller documents and upload them again");
    }
    out.append(markdown).append("\n\n");
    return this;
  }

  // list items of one list follow each other without a blank line
  private void trimBlankLine() {
    if (out.length() >= 2 && out.charAt(out.length() - 1) == '\n' && out.charAt(out.length() - 2) == '\n') {
      int start = out.lastIndexOf("\n", out.length() - 3) + 1;
      String previous = out.substring(start).strip();
      if (previous.startsWith("- ") || previous.matches("1\\. .*")) {
        out.setLength(out.length() - 1);
      }
    }
  }

  /** Text on one line: runs of whitespace (line breaks included) become one space. */
  static String inline(String text) {
    return text == null ? "" : text.replace('\u00a0', ' ').replaceAll("\\s+", " ").strip();
  }

  private static String escapeLine(String line) {
    return BLOCK_START.matcher(line).find() ? "\\" + line : line;
  }
}
