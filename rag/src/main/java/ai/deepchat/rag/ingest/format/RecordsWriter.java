package ai.deepchat.rag.ingest.format;

import java.util.ArrayList;
import java.util.List;

/**
 * Rows of a sheet or CSV file as records: the first non-empty row names the columns, and each later
 * row becomes one paragraph "Column: value; Column: value", so a row is found by any of its values
 * and read with its column names (a wide Markdown table would be one chunk far over the budget).
 */
final class RecordsWriter {

  private final MarkdownWriter out;
  private List<String> header;

  RecordsWriter(MarkdownWriter out) {
    this.out = out;
  }

  void row(List<String> cells) {
    if (cells.stream().allMatch(c -> MarkdownWriter.inline(c).isEmpty())) {
      return;
    }
    if (header == null) {
      header = new ArrayList<>();
      for (int i = 0; i < cells.size(); i++) {
        String name = MarkdownWriter.inline(cells.get(i));
        header.add(name.isEmpty() ? "Column " + (i + 1) : name);
      }
      return;
    }
    StringBuilder record = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String value = MarkdownWriter.inline(cells.get(i));
      if (!value.isEmpty()) {
        String name = i < header.size() ? header.get(i) : "Column " + (i + 1);
        record.append(record.length() == 0 ? "" : "; ").append(name).append(": ").append(value);
      }
    }
    out.paragraph(record.toString());
  }
}
