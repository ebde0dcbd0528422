package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.DocumentParser;
import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.poi.ss.usermodel.Cell;
import org.apache.poi.ss.usermodel.DataFormatter;
import org.apache.poi.ss.usermodel.Row;
import org.apache.poi.ss.usermodel.Sheet;
import org.apache.poi.ss.usermodel.Workbook;
import org.apache.poi.ss.usermodel.WorkbookFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Excel 97-2003 (.xls) through POI's usermodel (a binary workbook is read whole; it is at most the
 * upload's size): each sheet a section named after it, each row a record ({@link RecordsWriter});
 * cells as Excel shows them, formulas by their last computed value. .xlsx is streamed instead
 * ({@link XlsxExtractor}).
 */
final class XlsExtractor implements FormatExtractor {

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws IOException {
    FormatLimits.apply();
    DataFormatter formatter = new DataFormatter();
    formatter.setUseCachedValuesForFormulaCells(true);
    try (Workbook book = WorkbookFactory.create(new ByteArrayInputStream(bytes))) {
      MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
      String title = DocumentParser.baseName(sourceName);
      out.heading(1, title);
      for (Sheet sheet : book) {
        out.heading(2, sheet.getSheetName());
        RecordsWriter records = new RecordsWriter(out);
        for (Row row : sheet) {
          List<String> cells = new ArrayList<>();
          for (int c = 0; c < Math.max(0, row.getLastCellNum()); c++) {
            Cell cell = row.getCell(c);
            cells.add(cell == null ? "" : formatter.formatCellValue(cell));
          }
          records.row(cells);
        }
      }
      return new Extracted(out.markdown(), title, false);
    }
  }
}
