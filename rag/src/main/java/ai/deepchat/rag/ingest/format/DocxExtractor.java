package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.poi.xwpf.usermodel.IBodyElement;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFParagraph;
import org.apache.poi.xwpf.usermodel.XWPFStyle;
import org.apache.poi.xwpf.usermodel.XWPFTable;
import org.apache.poi.xwpf.usermodel.XWPFTableCell;
import org.apache.poi.xwpf.usermodel.XWPFTableRow;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Word (.docx) through POI: heading and title styles, numbered and bulleted lists, tables. */
final class DocxExtractor implements FormatExtractor {

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws IOException {
    FormatLimits.apply();
    try (XWPFDocument doc = new XWPFDocument(new ByteArrayInputStream(bytes))) {
      MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
      for (IBodyElement element : doc.getBodyElements()) {
        if (element instanceof XWPFParagraph paragraph) {
          paragraph(doc, paragraph, out);
        } else if (element instanceof XWPFTable table) {
          out.table(rows(table));
        }
      }
      return new Extracted(out.markdown(), doc.getProperties().getCoreProperties().getTitle(), false);
    }
  }

  private static void paragraph(XWPFDocument doc, XWPFParagraph paragraph, MarkdownWriter out) {
    String text = paragraph.getText();
    String style = styleName(doc, paragraph);
    int heading = WordStyles.headingLevel(style);
    if (heading > 0) {
      out.heading(heading, text);
    } else if (paragraph.getNumID() != null) {
      String format = paragraph.getNumFmt();
      int level = paragraph.getNumIlvl() == null ? 0 : paragraph.getNumIlvl().intValue();
      out.listItem(level, format != null && !format.equals("bullet"), text);
    } else if (WordStyles.listKind(style) != 0) {
      out.listItem(0, WordStyles.listKind(style) > 0, text);
    } else {
      out.paragraph(text);
    }
  }

  private static String styleName(XWPFDocument doc, XWPFParagraph paragraph) {
    String id = paragraph.getStyleID();
    if (id == null) {
      return "";
    }
    XWPFStyle style = doc.getStyles() == null ? null : doc.getStyles().getStyle(id);
    return (style != null && style.getName() != null ? style.getName() : id).toLowerCase(Locale.ROOT);
  }

  private static List<List<String>> rows(XWPFTable table) {
    List<List<String>> rows = new ArrayList<>();
    for (XWPFTableRow row : table.getRows()) {
      List<String> cells = new ArrayList<>();
      for (XWPFTableCell cell : row.getTableCells()) {
        cells.add(cell.getText());
      }
      rows.add(cells);
    }
    return rows;
  }
}
