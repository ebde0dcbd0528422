package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.poi.hwpf.HWPFDocument;
import org.apache.poi.hwpf.model.StyleDescription;
import org.apache.poi.hwpf.usermodel.Paragraph;
import org.apache.poi.hwpf.usermodel.Range;
import org.apache.poi.hwpf.usermodel.Table;
import org.apache.poi.hwpf.usermodel.TableCell;
import org.apache.poi.hwpf.usermodel.TableRow;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Word 97-2003 (.doc) through POI's HWPF: heading styles, list paragraphs, tables. */
final class DocExtractor implements FormatExtractor {

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws IOException {
    try (HWPFDocument doc = new HWPFDocument(new ByteArrayInputStream(bytes))) {
      MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
      Range range = doc.getRange();
      for (int i = 0; i < range.numParagraphs(); i++) {
        Paragraph paragraph = range.getParagraph(i);
        if (paragraph.isInTable()) {
          Table table = range.getTable(paragraph);
          out.table(rows(table));
          i += table.numParagraphs() - 1;
          continue;
        }
        String text = Range.stripFields(paragraph.text()).replace('\u000b', '\n').strip();
        String style = styleName(doc, paragraph);
        int heading = WordStyles.headingLevel(style);
        if (heading > 0) {
          out.heading(heading, text);
        } else if (paragraph.isInList() || WordStyles.listKind(style) != 0) {
          out.listItem(Math.max(0, paragraph.getIlvl()), WordStyles.listKind(style) > 0, text);
        } else {
          out.paragraph(text);
        }
      }
      return new Extracted(out.markdown(), doc.getSummaryInformation() == null ? null
          : doc.getSummaryInformation().getTitle(), false);
    }
  }

  private static String styleName(HWPFDocument doc, Paragraph paragraph) {
    StyleDescription style = doc.getStyleSheet().getStyleDescription(paragraph.getStyleIndex());
    return style == null || style.getName() == null ? "" : style.getName().toLowerCase(Locale.ROOT);
  }

  private static List<List<String>> rows(Table table) {
    List<List<String>> rows = new ArrayList<>();
    for (int r = 0; r < table.numRows(); r++) {
      TableRow row = table.getRow(r);
      List<String> cells = new ArrayList<>();
      for (int c = 0; c < row.numCells(); c++) {
        TableCell cell = row.getCell(c);
        cells.add(Range.stripFields(cell.text()).replace('\u0007', ' '));
      }
      rows.add(cells);
    }
    return rows;
  }
}
