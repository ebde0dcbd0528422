package ai.deepchat.rag.ingest.format;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.pdfbox.pdmodel.graphics.image.LosslessFactory;
import org.apache.poi.hssf.usermodel.HSSFWorkbook;
import org.apache.poi.ss.usermodel.Row;
import org.apache.poi.ss.usermodel.Sheet;
import org.apache.poi.ss.usermodel.Workbook;
import org.apache.poi.xslf.usermodel.SlideLayout;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xslf.usermodel.XSLFSlideLayout;
import org.apache.poi.xslf.usermodel.XSLFTable;
import org.apache.poi.xslf.usermodel.XSLFTableRow;
import org.apache.poi.xslf.usermodel.XSLFTextParagraph;
import org.apache.poi.xslf.usermodel.XSLFTextShape;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFParagraph;
import org.apache.poi.xwpf.usermodel.XWPFTable;

import java.awt.Color;
import java.awt.Font;
import java.awt.RenderingHints;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.geom.Rectangle2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Sample documents of every accepted format, made with the libraries that write them (PDFBox, POI)
 * or by hand for the simple containers (EPUB, CSV, HTML), plus the bad inputs of issue #16. Each
 * good sample holds a phrase found nowhere else ({@code *_TERM}), for search to find.
 * {@code main(dir)} writes the good ones to a folder: the bench's ingestion mode reads them there.
 */
public final class SampleDocuments {

  public static final String PDF_TERM = "quartz-lined intake";
  public static final String DOCX_TERM = "brass flange torque";
  /** In resources/formats/winch-guide.doc: a real Word 97 file, made by LibreOffice (the script beside it). */
  public static final String DOC_TERM = "bronze gimbal bearing";
  public static final String XLSX_TERM = "Kestrel Valve";
  public static final String XLS_TERM = "Egret Valve";
  public static final String CSV_TERM = "Osprey Hose";
  public static final String PPTX_TERM = "cormorant pressure sensor";
  public static final String EPUB_TERM = "lighthouse keeper's ledger";
  public static final String HTML_TERM = "tidal sluice inspection";
  public static final String NAV_TEXT = "Navigation link farm";

  private SampleDocuments() {
  }

  public static void main(String[] args) throws IOException {
    Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "target/samples"));
    for (Map.Entry<String, byte[]> sample : all().entrySet()) {
      Files.write(dir.resolve(sample.getKey()), sample.getValue());
    }
  }

  /** The good samples by file name. */
  public static Map<String, byte[]> all() {
    Map<String, byte[]> samples = new LinkedHashMap<>();
    samples.put("pump-manual.pdf", pdf());
    samples.put("invoice-scan.pdf", scannedPdf());
    samples.put("flange-guide.docx", docx());
    samples.put("winch-guide.doc", doc());
    samples.put("parts.xlsx", xlsx());
    samples.put("parts-legacy.xls", xls());
    samples.put("hoses.csv", csv());
    samples.put("sensors.pptx", pptx());
    samples.put("lighthouse.epub", epub());
    samples.put("sluice.html", html());
    return samples;
  }

  /** Three pages: a title and heading in larger type, a bulleted list on page 2, the term on page 3. */
  public static byte[] pdf() {
    try (PDDocument doc = new PDDocument()) {
      page(doc, List.of(
          new Text(22, "Harbor Pump Manual"),
          new Text(15, "Installation"),
          new Text(11, "Mount the pump on a level concrete plinth and bolt it down with four anchors."),
          new Text(11, "Connect the discharge line before the first start.")));
      page(doc, List.of(
          new Text(15, "Maintenance"),
          new Text(11, "\u2022 Replace the impeller gasket every 400 hours."),
          new Text(11, "\u2022 Grease the bearings every month.")));
      page(doc, List.of(
          new Text(15, "Troubleshooting"),
          new Text(11, "If the flow drops, clean the " + PDF_TERM + " and check the strainer basket.")));
      doc.getDocumentInformation().setTitle("Harbor Pump Manual");
      return save(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The rows of {@link #tablePdf}'s table, header first. */
  public static final List<List<String>> PDF_TABLE = List.of(
      List.of("Part", "Interval", "Torque"),
      List.of("Impeller gasket", "400 hours", "12 Nm"),
      List.of("Bearing grease", "1 month", "none"),
      List.of("Strainer basket", "2 weeks", "8 Nm"));

  /** A heading, a sentence, {@link #PDF_TABLE} set in three columns as PDF writers do, then a sentence. */
  public static byte[] tablePdf() {
    try (PDDocument doc = new PDDocument()) {
      PDPage page = new PDPage(PDRectangle.A4);
      doc.addPage(page);
      PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
      try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
        show(content, font, 15, 60, 780, "Service intervals");
        show(content, font, 11, 60, 750, "Keep to these intervals and torques when servicing the pump.");
        float y = 715;
        for (List<String> row : PDF_TABLE) {
          float[] columns = {60, 230, 400};
          for (int c = 0; c < row.size(); c++) {
            show(content, font, 11, columns[c], y, row.get(c));
          }
          y -= 20;
        }
        show(content, font, 11, 60, y - 15, "Log every service in the maintenance book.");
      }
      return save(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void show(PDPageContentStream content, PDType1Font font, float size, float x, float y, String text)
      throws IOException {
    content.beginText();
    content.setFont(font, size);
    content.newLineAtOffset(x, y);
    content.showText(text);
    content.endText();
  }

  /** A page of text, then a page holding only {@link #scanImage} (a scanned insert). */
  public static byte[] mixedScanPdf() {
    try (PDDocument doc = new PDDocument()) {
      page(doc, List.of(new Text(15, "Delivery note"), new Text(11, "The signed invoice is attached as a scan.")));
      PDPage page = new PDPage(PDRectangle.A4);
      doc.addPage(page);
      try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
        content.drawImage(LosslessFactory.createFromImage(doc, scanImage()), 0, 0, PDRectangle.A4.getWidth(),
            PDRectangle.A4.getHeight());
      }
      return save(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code pages} pages of ordinary text (for the parse budget and the bench). */
  public static byte[] longPdf(int pages) {
    try (PDDocument doc = new PDDocument()) {
      for (int p = 1; p <= pages; p++) {
        page(doc, List.of(new Text(15, "Section " + p),
            new Text(11, "The relief valve on deck " + p + " opens at six bar and closes at five."),
            new Text(11, "Log every opening in the maintenance book with the time and the pressure.")));
      }
      return save(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static final String SCAN_TERM = "invoice 4711";
  public static final String SCAN_TERM_ZH = "请于三十天内付款";

  /**
   * One page holding only an image of text, as a scanner makes it (150 dpi, grey): an English line
   * with {@link #SCAN_TERM} and a Chinese one with {@link #SCAN_TERM_ZH} (in a CJK font: fonts-noto-cjk).
   */
  public static byte[] scannedPdf() {
    try (PDDocument doc = new PDDocument()) {
      PDPage page = new PDPage(PDRectangle.A4);
      doc.addPage(page);
      try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
        content.drawImage(LosslessFactory.createFromImage(doc, scanImage()), 0, 0, PDRectangle.A4.getWidth(),
            PDRectangle.A4.getHeight());
      }
      return save(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The scanned page itself: A4 at 150 dpi, grey. */
  public static BufferedImage scanImage() {
    BufferedImage image = new BufferedImage(1240, 1754, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fill(new Rectangle2D.Float(0, 0, 1240, 1754));
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 40));
    g.drawString("Scanned " + SCAN_TERM, 120, 200);
    g.drawString("Total due: 1280 EUR", 120, 280);
    g.setFont(new Font("Noto Sans CJK SC", Font.PLAIN, 40));
    g.drawString("发票号码：4711，" + SCAN_TERM_ZH + "。", 120, 380);
    g.dispose();
    return image;
  }

  /** The sample PDF, opened only with the password "secret". */
  public static byte[] encryptedPdf() {
    try (PDDocument doc = org.apache.pdfbox.Loader.loadPDF(pdf())) {
      StandardProtectionPolicy policy = new StandardProtectionPolicy("owner-secret", "secret",
          new AccessPermission());
      policy.setEncryptionKeyLength(128);
      doc.protect(policy);
      return save(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A PDF header, then bytes that are no PDF at all. */
  public static byte[] corruptPdf() {
    byte[] bytes = new byte[4096];
    new java.util.Random(16).nextBytes(bytes);
    byte[] header = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(header, 0, bytes, 0, header.length);
    return bytes;
  }

  private record Text(float size, String line) {
  }

  private static void page(PDDocument doc, List<Text> lines) throws IOException {
    PDPage page = new PDPage(PDRectangle.A4);
    doc.addPage(page);
    PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
    try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
      float y = 780;
      for (Text text : lines) {
        content.beginText();
        content.setFont(font, text.size());
        content.newLineAtOffset(60, y);
        content.showText(text.line());
        content.endText();
        y -= text.size() * 2.2f;
      }
    }
  }

  private static byte[] save(PDDocument doc) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    doc.save(out);
    return out.toByteArray();
  }

  /** Title, headings, a bulleted list, a numbered list and a table. */
  public static byte[] docx() {
    try (XWPFDocument doc = new XWPFDocument()) {
      styled(doc, "Title", "Flange Assembly Guide");
      styled(doc, "Heading1", "Preparation");
      styled(doc, null, "Clean both faces of the flange with a lint-free cloth.");
      styled(doc, "ListBullet", "Check the gasket for cracks");
      styled(doc, "ListBullet", "Lay out the bolts in pairs");
      styled(doc, "Heading1", "Tightening");
      styled(doc, null, "Apply the " + DOCX_TERM + " in three passes, crosswise.");
      XWPFTable table = doc.createTable(3, 2);
      String[][] cells = {{"Bolt size", "Torque"}, {"M12", "60 Nm"}, {"M16", "150 Nm"}};
      for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 2; c++) {
          table.getRow(r).getCell(c).setText(cells[r][c]);
        }
      }
      doc.getProperties().getCoreProperties().setTitle("Flange Assembly Guide");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      doc.write(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The Word 97-2003 sample; POI writes no .doc, so it is a committed file (see make-doc-sample.sh). */
  public static byte[] doc() {
    try (var in = SampleDocuments.class.getResourceAsStream("/formats/winch-guide.doc")) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A DOCX of plain paragraphs (no styles), one per argument. */
  public static byte[] docxOf(String... paragraphs) {
    try (XWPFDocument doc = new XWPFDocument()) {
      for (String paragraph : paragraphs) {
        styled(doc, null, paragraph);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      doc.write(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void styled(XWPFDocument doc, String style, String text) {
    XWPFParagraph paragraph = doc.createParagraph();
    if (style != null) {
      paragraph.setStyle(style);
    }
    paragraph.createRun().setText(text);
  }

  /** Two sheets: parts with prices (one a formula) and suppliers. */
  public static byte[] xlsx() {
    return workbook(new XSSFWorkbook(), XLSX_TERM);
  }

  /** The same workbook in the old binary format. */
  public static byte[] xls() {
    return workbook(new HSSFWorkbook(), XLS_TERM);
  }

  private static byte[] workbook(Workbook book, String term) {
    try (book) {
      Sheet parts = book.createSheet("Prices");
      row(parts, 0, "Part", "Price (EUR)", "Stock");
      row(parts, 1, term, "42.5", "7");
      row(parts, 2, "Heron Gasket", "3.2", "120");
      Row total = parts.createRow(3);
      total.createCell(0).setCellValue("Stock total");
      total.createCell(2).setCellFormula("C2+C3");
      book.getCreationHelper().createFormulaEvaluator().evaluateAll();
      Sheet suppliers = book.createSheet("Suppliers");
      row(suppliers, 0, "Supplier", "City");
      row(suppliers, 1, "Gull Industrial", "Rotterdam");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      book.write(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void row(Sheet sheet, int index, String... values) {
    Row row = sheet.createRow(index);
    for (int i = 0; i < values.length; i++) {
      try {
        row.createCell(i).setCellValue(Double.parseDouble(values[i]));
      } catch (NumberFormatException text) {
        row.createCell(i).setCellValue(values[i]);
      }
    }
  }

  /** Semicolon-separated, with a quoted field holding a separator, a quote and a line break. */
  public static byte[] csv() {
    return ("Hose;Length (m);Note\n"
        + CSV_TERM + ";15;\"rated 10 bar; \"\"marine\"\" grade\"\n"
        + "Plover Hose;30;\"two\nlines\"\n").getBytes(StandardCharsets.UTF_8);
  }

  /** Two slides: a bulleted list, then a table, with speaker notes on neither. */
  public static byte[] pptx() {
    try (XMLSlideShow show = new XMLSlideShow()) {
      XSLFSlideLayout layout = show.getSlideMasters().get(0).getLayout(SlideLayout.TITLE_AND_CONTENT);
      XSLFSlide first = show.createSlide(layout);
      first.getPlaceholder(0).setText("Sensor Overview");
      XSLFTextShape body = first.getPlaceholder(1);
      body.clearText();
      XSLFTextParagraph p1 = body.addNewTextParagraph();
      p1.addNewTextRun().setText("The " + PPTX_TERM + " reads up to 16 bar");
      XSLFTextParagraph p2 = body.addNewTextParagraph();
      p2.addNewTextRun().setText("Calibrate it every quarter");
      p2.setIndentLevel(1);
      XSLFSlide second = show.createSlide(show.getSlideMasters().get(0).getLayout(SlideLayout.TITLE_ONLY));
      second.getPlaceholder(0).setText("Ranges");
      XSLFTable table = second.createTable();
      String[][] cells = {{"Sensor", "Range"}, {"Cormorant", "0-16 bar"}};
      for (String[] values : cells) {
        XSLFTableRow row = table.addRow();
        for (String value : values) {
          row.addCell().setText(value);
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      show.write(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Two chapters in spine order; the navigation document is in the manifest but not read as text. */
  public static byte[] epub() {
    Map<String, String> parts = new LinkedHashMap<>();
    parts.put("META-INF/container.xml", "<?xml version=\"1.0\"?><container version=\"1.0\" "
        + "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles><rootfile "
        + "full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles></container>");
    parts.put("OEBPS/content.opf", "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" "
        + "version=\"3.0\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>The Lighthouse "
        + "Log</dc:title></metadata><manifest><item id=\"nav\" href=\"nav.xhtml\" properties=\"nav\" "
        + "media-type=\"application/xhtml+xml\"/><item id=\"c1\" href=\"text/chapter1.xhtml\" "
        + "media-type=\"application/xhtml+xml\"/><item id=\"c2\" href=\"text/chapter2.xhtml\" "
        + "media-type=\"application/xhtml+xml\"/></manifest><spine><itemref idref=\"c1\"/><itemref "
        + "idref=\"c2\"/></spine></package>");
    parts.put("OEBPS/nav.xhtml", xhtml("Contents", "<nav><ol><li>" + NAV_TEXT + "</li></ol></nav>"));
    parts.put("OEBPS/text/chapter1.xhtml", xhtml("Chapter 1", "<h1>The Lamp Room</h1><p>Every evening the "
        + "keeper trims the wick and winds the clockwork.</p>"));
    parts.put("OEBPS/text/chapter2.xhtml", xhtml("Chapter 2", "<h1>Records</h1><p>Each night is written "
        + "into the " + EPUB_TERM + ", with the weather and passing ships.</p><ul><li>wind</li><li>visibility"
        + "</li></ul>"));
    return zip("application/epub+zip", parts);
  }

  /** A book of {@code chapters} chapters of a few paragraphs each (for the bench). */
  public static byte[] epubBook(int chapters) {
    Map<String, String> parts = new LinkedHashMap<>();
    StringBuilder manifest = new StringBuilder();
    StringBuilder spine = new StringBuilder();
    String paragraph = "<p>" + "The keeper trims the wick, winds the clockwork and logs the weather. ".repeat(6) + "</p>";
    for (int c = 1; c <= chapters; c++) {
      manifest.append("<item id=\"c").append(c).append("\" href=\"c").append(c)
          .append(".xhtml\" media-type=\"application/xhtml+xml\"/>");
      spine.append("<itemref idref=\"c").append(c).append("\"/>");
      parts.put("OEBPS/c" + c + ".xhtml", xhtml("Chapter " + c, "<h1>Chapter " + c + "</h1>" + paragraph.repeat(4)));
    }
    parts.put("META-INF/container.xml", "<?xml version=\"1.0\"?><container version=\"1.0\" "
        + "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles><rootfile "
        + "full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles></container>");
    parts.put("OEBPS/content.opf", "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" "
        + "version=\"3.0\"><metadata/><manifest>" + manifest + "</manifest><spine>" + spine + "</spine></package>");
    return zip("application/epub+zip", parts);
  }

  private static String xhtml(String title, String body) {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>"
        + title + "</title></head><body>" + body + "</body></html>";
  }

  /** A page whose main content sits between navigation, a banner and a footer. */
  public static byte[] html() {
    return ("<!doctype html><html><head><title>Sluice Handbook</title></head><body>"
        + "<header><p>Harbor Authority portal</p></header>"
        + "<nav><ul><li><a href=\"/a\">" + NAV_TEXT + "</a></li></ul></nav>"
        + "<main><h1>Sluice Handbook</h1><h2>Inspection</h2><p>The " + HTML_TERM + " happens at low water."
        + "</p><table><tr><th>Gate</th><th>Interval</th></tr><tr><td>North</td><td>weekly</td></tr></table>"
        + "</main><footer><p>Copyright footer text</p></footer></body></html>").getBytes(StandardCharsets.UTF_8);
  }

  /** A DOCX whose document part is a megabyte-compressed run of spaces (~1,000 to 1): a zip bomb. */
  public static byte[] zipBombDocx() {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put("[Content_Types].xml", contentTypes().getBytes(StandardCharsets.UTF_8));
    parts.put("_rels/.rels", rels().getBytes(StandardCharsets.UTF_8));
    byte[] document = new byte[80 * 1024 * 1024];
    java.util.Arrays.fill(document, (byte) ' ');
    byte[] open = ("<?xml version=\"1.0\"?><w:document xmlns:w=\"" + W + "\"><w:body><w:p><w:r><w:t>")
        .getBytes(StandardCharsets.UTF_8);
    System.arraycopy(open, 0, document, 0, open.length);
    parts.put("word/document.xml", document);
    return zipBytes(null, parts);
  }

  /** An EPUB whose one chapter is a megabyte-compressed run of spaces (~1,000 to 1): a zip bomb. */
  public static byte[] zipBombEpub() {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    String chapter = xhtml("Bomb", "<p>" + " ".repeat(80 * 1024 * 1024) + "</p>");
    parts.put("META-INF/container.xml", ("<?xml version=\"1.0\"?><container version=\"1.0\" "
        + "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles><rootfile "
        + "full-path=\"content.opf\"/></rootfiles></container>").getBytes(StandardCharsets.UTF_8));
    parts.put("content.opf", ("<package><manifest><item id=\"c\" href=\"c.xhtml\"/></manifest><spine>"
        + "<itemref idref=\"c\"/></spine></package>").getBytes(StandardCharsets.UTF_8));
    parts.put("c.xhtml", chapter.getBytes(StandardCharsets.UTF_8));
    return zipBytes("application/epub+zip", parts);
  }

  private static final String W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

  /** A DOCX whose text is an external entity that names {@code secret} (a local file). */
  public static byte[] xxeDocx(Path secret) {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put("[Content_Types].xml", contentTypes().getBytes(StandardCharsets.UTF_8));
    parts.put("_rels/.rels", rels().getBytes(StandardCharsets.UTF_8));
    parts.put("word/document.xml", ("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY xxe SYSTEM \""
        + secret.toUri() + "\">]><w:document xmlns:w=\"" + W + "\"><w:body><w:p><w:r><w:t>Leak: &xxe;</w:t>"
        + "</w:r></w:p></w:body></w:document>").getBytes(StandardCharsets.UTF_8));
    return zipBytes(null, parts);
  }

  /** An XLSX (from POI) whose shared strings carry an external entity that names {@code secret}. */
  public static byte[] xxeXlsx(Path secret) {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(
        new java.io.ByteArrayInputStream(xlsx()))) {
      for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
        byte[] bytes = in.readAllBytes();
        if (entry.getName().equals("xl/sharedStrings.xml")) {
          String xml = new String(bytes, StandardCharsets.UTF_8);
          xml = xml.replaceFirst("<sst ", "<!DOCTYPE sst [<!ENTITY xxe SYSTEM \"" + secret.toUri() + "\">]><sst ")
              .replace(XLSX_TERM, "&xxe;");
          bytes = xml.getBytes(StandardCharsets.UTF_8);
        }
        parts.put(entry.getName(), bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return zipBytes(null, parts);
  }

  private static String contentTypes() {
    return "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
        + "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
        + "<Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" "
        + "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
        + "</Types>";
  }

  private static String rels() {
    return "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
        + "relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        + "2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
  }

  private static byte[] zip(String mimetype, Map<String, String> parts) {
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    parts.forEach((name, text) -> bytes.put(name, text.getBytes(StandardCharsets.UTF_8)));
    return zipBytes(mimetype, bytes);
  }

  // an EPUB's mimetype comes first and uncompressed
  private static byte[] zipBytes(String mimetype, Map<String, byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      if (mimetype != null) {
        byte[] type = mimetype.getBytes(StandardCharsets.US_ASCII);
        ZipEntry entry = new ZipEntry("mimetype");
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(type.length);
        CRC32 crc = new CRC32();
        crc.update(type);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(type);
        zip.closeEntry();
      }
      zip.setLevel(9);
      for (Map.Entry<String, byte[]> part : parts.entrySet()) {
        zip.putNextEntry(new ZipEntry(part.getKey()));
        zip.write(part.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
