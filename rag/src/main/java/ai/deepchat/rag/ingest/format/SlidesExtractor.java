package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.poi.sl.usermodel.Placeholder;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFGroupShape;
import org.apache.poi.xslf.usermodel.XSLFNotes;
import org.apache.poi.xslf.usermodel.XSLFShape;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xslf.usermodel.XSLFTable;
import org.apache.poi.xslf.usermodel.XSLFTableCell;
import org.apache.poi.xslf.usermodel.XSLFTableRow;
import org.apache.poi.xslf.usermodel.XSLFTextParagraph;
import org.apache.poi.xslf.usermodel.XSLFTextShape;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * PowerPoint (.pptx) through POI: a "slide N" marker and the slide's title as a heading per slide,
 * bullets as nested list items, tables as tables, and the speaker notes as a paragraph.
 */
final class SlidesExtractor implements FormatExtractor {

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws IOException {
    FormatLimits.apply();
    try (XMLSlideShow show = new XMLSlideShow(new ByteArrayInputStream(bytes))) {
      MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
      int number = 0;
      for (XSLFSlide slide : show.getSlides()) {
        number++;
        out.location("slide " + number);
        String title = slide.getTitle();
        out.heading(2, title == null || title.isBlank() ? "Slide " + number : title);
        shapes(slide.getShapes(), out);
        XSLFNotes notes = slide.getNotes();
        if (notes != null) {
          for (XSLFShape shape : notes.getShapes()) {
            if (shape instanceof XSLFTextShape text && text.getTextType() == Placeholder.BODY) {
              out.paragraph(text.getText());
            }
          }
        }
      }
      return new Extracted(out.markdown(), show.getProperties().getCoreProperties().getTitle(), true);
    }
  }

  private static void shapes(List<XSLFShape> shapes, MarkdownWriter out) {
    for (XSLFShape shape : shapes) {
      if (shape instanceof XSLFGroupShape group) {
        shapes(group.getShapes(), out);
      } else if (shape instanceof XSLFTable table) {
        List<List<String>> rows = new ArrayList<>();
        for (XSLFTableRow row : table.getRows()) {
          List<String> cells = new ArrayList<>();
          for (XSLFTableCell cell : row.getCells()) {
            cells.add(cell.getText());
          }
          rows.add(cells);
        }
        out.table(rows);
      } else if (shape instanceof XSLFTextShape text && !isTitle(text)) {
        for (XSLFTextParagraph paragraph : text.getTextParagraphs()) {
          String line = paragraph.getText();
          if (paragraph.isBullet() && paragraph.getIndentLevel() >= 0) {
            out.listItem(paragraph.getIndentLevel(), paragraph.getAutoNumberingScheme() != null, line);
          } else {
            out.paragraph(line);
          }
        }
      }
    }
  }

  private static boolean isTitle(XSLFTextShape shape) {
    Placeholder type = shape.getTextType();
    return type == Placeholder.TITLE || type == Placeholder.CENTERED_TITLE;
  }
}
