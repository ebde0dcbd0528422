package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.ingest.DocumentParser;
import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.poi.openxml4j.opc.OPCPackage;
import org.apache.poi.ss.usermodel.DataFormatter;
import org.apache.poi.ss.util.CellReference;
import org.apache.poi.util.XMLHelper;
import org.apache.poi.xssf.eventusermodel.ReadOnlySharedStringsTable;
import org.apache.poi.xssf.eventusermodel.XSSFReader;
import org.apache.poi.xssf.eventusermodel.XSSFSheetXMLHandler;
import org.apache.poi.xssf.model.StylesTable;
import org.apache.poi.xssf.usermodel.XSSFComment;
import org.xml.sax.InputSource;
import org.xml.sax.XMLReader;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Excel (.xlsx) streamed through POI's SAX reader: rows are read and written as records
 * ({@link RecordsWriter}) one at a time, so a large sheet never sits in memory as a tree (POI's
 * usermodel needs several hundred bytes per cell). Each sheet is a section named after it; cells read
 * as Excel shows them, formulas by their last computed value.
 */
final class XlsxExtractor implements FormatExtractor {

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws Exception {
    FormatLimits.apply();
    DataFormatter formatter = new DataFormatter();
    try (OPCPackage pkg = OPCPackage.open(new ByteArrayInputStream(bytes))) {
      XSSFReader reader = new XSSFReader(pkg);
      ReadOnlySharedStringsTable strings = new ReadOnlySharedStringsTable(pkg);
      StylesTable styles = reader.getStylesTable();
      MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
      String title = DocumentParser.baseName(sourceName);
      out.heading(1, title);
      XSSFReader.SheetIterator sheets = (XSSFReader.SheetIterator) reader.getSheetsData();
      while (sheets.hasNext()) {
        try (InputStream sheet = sheets.next()) {
          out.heading(2, sheets.getSheetName());
          XMLReader parser = XMLHelper.newXMLReader();
          parser.setContentHandler(new XSSFSheetXMLHandler(styles, null, strings,
              new Rows(new RecordsWriter(out)), formatter, false));
          parser.parse(new InputSource(sheet));
        }
      }
      return new Extracted(out.markdown(), title, false);
    }
  }

  /** Collects a row's cells at their columns (empty cells are not reported) and hands it on. */
  private static final class Rows implements XSSFSheetXMLHandler.SheetContentsHandler {
    private final RecordsWriter records;
    private final List<String> cells = new ArrayList<>();

    Rows(RecordsWriter records) {
      this.records = records;
    }

    @Override
    public void startRow(int rowNum) {
      cells.clear();
    }

    @Override
    public void endRow(int rowNum) {
      records.row(cells);
    }

    @Override
    public void cell(String reference, String formattedValue, XSSFComment comment) {
      int column = reference == null ? cells.size() : new CellReference(reference).getCol();
      while (cells.size() < column) {
        cells.add("");
      }
      cells.add(formattedValue == null ? "" : formattedValue);
    }
  }
}
