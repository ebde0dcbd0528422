package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.DocumentParser;
import ai.deepchat.rag.ingest.ParseDeadline;

import java.util.ArrayList;
import java.util.List;

/**
 * CSV (RFC 4180: quoted fields may hold separators, quotes and line breaks) as records
 * ({@link RecordsWriter}). The separator is whichever of comma, semicolon and tab the header line
 * holds most of, since spreadsheets in many locales write semicolons.
 */
final class CsvExtractor {

  private CsvExtractor() {
  }

  static Extracted extract(String sourceName, String text, ParseDeadline deadline) {
    MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
    String title = DocumentParser.baseName(sourceName);
    out.heading(1, title);
    RecordsWriter records = new RecordsWriter(out);
    char separator = separator(text);
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.length() == 0) {
        quoted = true;
      } else if (c == separator) {
        row.add(field.toString());
        field.setLength(0);
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          i++;
        }
        row.add(field.toString());
        field.setLength(0);
        records.row(row);
        row = new ArrayList<>();
      } else {
        field.append(c);
      }
    }
    if (field.length() > 0 || !row.isEmpty()) {
      row.add(field.toString());
      records.row(row);
    }
    return new Extracted(out.markdown(), title, false);
  }

  private static char separator(String text) {
    int end = text.indexOf('\n');
    String header = end < 0 ? text : text.substring(0, end);
    char best = ',';
    long most = -1;
    for (char candidate : new char[] {',', ';', '\t'}) {
      long count = header.chars().filter(ch -> ch == candidate).count();
      if (count > most) {
        most = count;
        best = candidate;
      }
    }
    return best;
  }
}
