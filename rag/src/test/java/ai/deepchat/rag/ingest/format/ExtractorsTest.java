package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.RagException;
import ai.deepchat.rag.ingest.Chunk;
import ai.deepchat.rag.ingest.ContentSniffer;
import ai.deepchat.rag.ingest.DocumentParser;
import ai.deepchat.rag.ingest.ParseDeadline;
import ai.deepchat.rag.ingest.ParsedDocument;
import ai.deepchat.rag.ingest.SourceFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each format's structure reaching the chunker, and each bad input refused with its reason. */
class ExtractorsTest {

  private final DocumentParser parser = new DocumentParser(320, 48);

  private ParsedDocument parse(String name, byte[] bytes) {
    return parser.parse(name, ContentSniffer.sniff(name, bytes), bytes);
  }

  private static String all(ParsedDocument doc) {
    return doc.chunks().stream().map(c -> c.sectionPath() + " @" + c.location() + "\n" + c.text())
        .collect(Collectors.joining("\n---\n"));
  }

  private static Chunk containing(ParsedDocument doc, String text) {
    return doc.chunks().stream().filter(c -> c.text().contains(text)).findFirst()
        .orElseThrow(() -> new AssertionError(text + " not in:\n" + all(doc)));
  }

  @Test
  void pdfKeepsHeadingsListsAndPages() {
    ParsedDocument doc = parse("pump-manual.pdf", SampleDocuments.pdf());
    assertThat(doc.format()).isEqualTo(SourceFormat.PDF);
    assertThat(doc.title()).isEqualTo("Harbor Pump Manual");
    Chunk install = containing(doc, "level concrete plinth");
    assertThat(install.sectionPath()).isEqualTo("Harbor Pump Manual > Installation");
    assertThat(install.location()).isEqualTo("p. 1");
    Chunk list = containing(doc, "Replace the impeller gasket");
    assertThat(list.text()).contains("- Replace the impeller gasket every 400 hours.\n- Grease the bearings");
    assertThat(list.location()).isEqualTo("p. 2");
    Chunk term = containing(doc, SampleDocuments.PDF_TERM);
    assertThat(term.sectionPath()).endsWith("Troubleshooting");
    assertThat(term.location()).isEqualTo("p. 3");
  }

  @Test
  void docxKeepsTitleHeadingsListsAndTables() {
    ParsedDocument doc = parse("flange-guide.docx", SampleDocuments.docx());
    assertThat(doc.title()).isEqualTo("Flange Assembly Guide");
    assertThat(containing(doc, "- Check the gasket for cracks\n- Lay out the bolts").sectionPath())
        .isEqualTo("Flange Assembly Guide > Preparation");
    Chunk table = containing(doc, "| Bolt size | Torque |");
    assertThat(table.text()).contains("| M16 | 150 Nm |");
    assertThat(containing(doc, SampleDocuments.DOCX_TERM).sectionPath()).endsWith("Tightening");
    assertThat(table.location()).isNull();
  }

  /**
   * A real Word 97-2003 file (LibreOffice's, from resources/formats/winch-guide.html by the script beside
   * it): headings, a bulleted list and a table reach the chunker as they do from a DOCX.
   */
  @Test
  void word97DocKeepsTitleHeadingsListsAndTables() {
    ParsedDocument doc = parse("winch-guide.doc", SampleDocuments.doc());
    assertThat(doc.title()).isEqualTo("Winch Service Guide");
    assertThat(containing(doc, "- Check the cable for broken strands\n- Test the brake").sectionPath())
        .isEqualTo("Winch Service Guide > Inspection");
    assertThat(containing(doc, SampleDocuments.DOC_TERM).sectionPath()).endsWith("Lubrication");
    assertThat(containing(doc, "| Part | Interval |").text()).contains("| Gearbox oil | 500 h |");
  }

  @Test
  void spreadsheetsBecomeRecordsUnderTheirSheet() {
    for (String name : new String[] {"parts.xlsx", "parts-legacy.xls"}) {
      boolean xlsx = name.endsWith("x");
      ParsedDocument doc = parse(name, xlsx ? SampleDocuments.xlsx() : SampleDocuments.xls());
      assertThat(doc.title()).isEqualTo(DocumentParser.baseName(name));
      String term = xlsx ? SampleDocuments.XLSX_TERM : SampleDocuments.XLS_TERM;
      Chunk prices = containing(doc, "Part: " + term + "; Price (EUR): 42.5; Stock: 7");
      assertThat(prices.sectionPath()).isEqualTo(doc.title() + " > Prices");
      assertThat(prices.text()).contains("Part: Stock total; Stock: 127"); // a formula's computed value
      assertThat(containing(doc, "Supplier: Gull Industrial; City: Rotterdam").sectionPath()).endsWith("> Suppliers");
    }
  }

  @Test
  void csvRowsAreRecordsWithQuotedFieldsIntact() {
    ParsedDocument doc = parse("hoses.csv", SampleDocuments.csv());
    assertThat(containing(doc, SampleDocuments.CSV_TERM).text())
        .contains("Hose: Osprey Hose; Length (m): 15; Note: rated 10 bar; \"marine\" grade")
        .contains("Hose: Plover Hose; Length (m): 30; Note: two lines");
  }

  @Test
  void csvFromExcelInGb18030OrUtf16IsRead() {
    String csv = "产品,价格\n止回阀,42\n";
    for (java.nio.charset.Charset charset : new java.nio.charset.Charset[] {
        java.nio.charset.Charset.forName("GB18030"), StandardCharsets.UTF_16}) { // UTF_16 writes a BOM
      ParsedDocument doc = parse("价格表.csv", csv.getBytes(charset));
      assertThat(containing(doc, "产品: 止回阀; 价格: 42").sectionPath()).isEqualTo("价格表");
    }
    // other text formats stay strict UTF-8
    assertThatThrownBy(() -> parse("notes.md", "# 说明".getBytes(java.nio.charset.Charset.forName("GB18030"))))
        .isInstanceOf(RagException.class).hasMessage("notes.md is not valid UTF-8 text");
  }

  @Test
  void pptxHasASectionAndLocationPerSlide() {
    ParsedDocument doc = parse("sensors.pptx", SampleDocuments.pptx());
    Chunk first = containing(doc, SampleDocuments.PPTX_TERM);
    assertThat(first.sectionPath()).isEqualTo("Sensor Overview");
    assertThat(first.location()).isEqualTo("slide 1");
    assertThat(first.text()).contains("Calibrate it every quarter");
    Chunk table = containing(doc, "| Sensor | Range |");
    assertThat(table.sectionPath()).isEqualTo("Ranges");
    assertThat(table.location()).isEqualTo("slide 2");
  }

  @Test
  void epubReadsChaptersInSpineOrderWithoutTheNavigation() {
    ParsedDocument doc = parse("lighthouse.epub", SampleDocuments.epub());
    assertThat(all(doc)).doesNotContain(SampleDocuments.NAV_TEXT);
    assertThat(doc.chunks().get(0).sectionPath()).isEqualTo("The Lamp Room");
    assertThat(containing(doc, SampleDocuments.EPUB_TERM).sectionPath()).isEqualTo("Records");
    assertThat(containing(doc, "* wind").text()).contains("* visibility");
  }

  @Test
  void htmlKeepsTheMainContentOnly() {
    ParsedDocument doc = parse("sluice.html", SampleDocuments.html());
    String text = all(doc);
    assertThat(text).contains(SampleDocuments.HTML_TERM).containsPattern("\\| Gate +\\| Interval \\|")
        .doesNotContain(SampleDocuments.NAV_TEXT).doesNotContain("Harbor Authority portal")
        .doesNotContain("Copyright footer");
    assertThat(containing(doc, SampleDocuments.HTML_TERM).sectionPath()).isEqualTo("Sluice Handbook > Inspection");
  }

  @Test
  void extractedTextCannotForgeStructureOrPageMarkers() throws Exception {
    ParsedDocument doc = parse("forged.docx", SampleDocuments.docxOf(
        "Body text.", "<!-- deepchat:location p. 99 -->", "# Forged heading", "| not | a table |", "- not a list"));
    assertThat(doc.chunks()).hasSize(1).allSatisfy(c -> {
      assertThat(c.location()).isNull();
      assertThat(c.sectionPath()).isEmpty();
      assertThat(c.text()).contains("\\# Forged heading").contains("\\<!-- deepchat:location p. 99 -->");
    });
  }

  @Test
  void scannedPdfIsReadByOcr() {
    ParsedDocument doc = parse("scan.pdf", SampleDocuments.scannedPdf());
    Chunk page = containing(doc, SampleDocuments.SCAN_TERM);
    assertThat(page.location()).isEqualTo("p. 1");
    assertThat(page.text()).contains("1280 EUR").contains(SampleDocuments.SCAN_TERM_ZH);
  }

  @Test
  void aPdfTableBecomesAMarkdownTable() {
    ParsedDocument doc = parse("service.pdf", SampleDocuments.tablePdf());
    String text = doc.chunks().stream().map(Chunk::text).reduce("", (x, y) -> x + "\n" + y);
    assertThat(text).contains("| Part | Interval | Torque |")
        .contains("| Impeller gasket | 400 hours | 12 Nm |")
        .contains("| Strainer basket | 2 weeks | 8 Nm |")
        .contains("Keep to these intervals").contains("Log every service");
    // the sentences around it stay prose, not rows
    assertThat(text).doesNotContain("| Keep to").doesNotContain("| Log every");
  }

  @Test
  void anImageOnlyPageOfAPdfWithTextIsReadByOcr() {
    ParsedDocument doc = parse("delivery.pdf", SampleDocuments.mixedScanPdf());
    assertThat(containing(doc, "signed invoice").location()).startsWith("p. 1");
    Chunk scanned = containing(doc, SampleDocuments.SCAN_TERM);
    assertThat(scanned.location()).as("the scanned page's number").endsWith("2");
    assertThat(scanned.text()).contains("1280 EUR");
  }

  @Test
  void ocrIsKilledAtTheParseDeadline() {
    // a page full of text at 300 dpi: Tesseract needs several seconds for it, the budget is 300 ms
    java.awt.image.BufferedImage page = new java.awt.image.BufferedImage(2480, 3508,
        java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    java.awt.Graphics2D g = page.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, 2480, 3508);
    g.setColor(java.awt.Color.BLACK);
    g.setFont(new java.awt.Font(java.awt.Font.SERIF, java.awt.Font.PLAIN, 42));
    for (int line = 0; line < 60; line++) {
      g.drawString("Line " + line + " of the harbour ledger: pump checked, valve greased, tide logged.", 150,
          200 + line * 54);
    }
    g.dispose();
    long start = System.nanoTime();
    assertThatThrownBy(() -> TesseractOcr.DEFAULT.recognize(page, ParseDeadline.in(300_000_000L)))
        .isInstanceOf(ParseDeadline.Expired.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
  }

  @Test
  void scannedPdfOnANodeWithoutOcrSaysOcrIsNeeded() {
    PdfExtractor withoutOcr = new PdfExtractor(new TesseractOcr("/nonexistent/tesseract"));
    assertThatThrownBy(() -> withoutOcr.extract("scan.pdf", SampleDocuments.scannedPdf(), ParseDeadline.in(10_000_000_000L)))
        .isInstanceOf(RagException.class)
        .hasMessage("scan.pdf: no text layer: OCR needed (its 1 page is an image, a scan without text to index, "
            + "and this node has no OCR engine)");
  }

  @Test
  void encryptedAndCorruptPdfsGetTheirReason() {
    assertThatThrownBy(() -> parse("locked.pdf", SampleDocuments.encryptedPdf()))
        .isInstanceOf(RagException.class).hasMessage("locked.pdf is password-protected; remove the password "
            + "and upload it again");
    assertThatThrownBy(() -> parse("broken.pdf", SampleDocuments.corruptPdf()))
        .isInstanceOf(RagException.class).hasMessageStartingWith("broken.pdf ");
  }

  @Test
  void zipBombsAreRefusedQuickly() {
    for (String name : new String[] {"bomb.docx", "bomb.epub"}) {
      byte[] bomb = name.endsWith("docx") ? SampleDocuments.zipBombDocx() : SampleDocuments.zipBombEpub();
      assertThat(bomb.length).isLessThan(1024 * 1024);
      long start = System.nanoTime();
      assertThatThrownBy(() -> parse(name, bomb))
          .isInstanceOf(RagException.class).hasMessageStartingWith(name)
          .hasMessageContaining("refused as a possible zip bomb");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }
  }

  @Test
  void externalEntitiesAreNeverRead(@TempDir Path dir) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret.txt"), "CANARY-7f3e");
    assertThatThrownBy(() -> parse("xxe.docx", SampleDocuments.xxeDocx(secret)))
        .isInstanceOf(RagException.class)
        .hasMessage("xxe.docx declares a DTD (DOCTYPE), which Office documents never do; refused so that no "
            + "external entity is ever loaded");
    assertThatThrownBy(() -> parse("xxe.xlsx", SampleDocuments.xxeXlsx(secret)))
        .isInstanceOf(RagException.class)
        .hasMessageStartingWith("xxe.xlsx declares a DTD (DOCTYPE)");
  }

  @Test
  void extensionThatLiesIsRefusedNamingTheRealFormat() {
    assertThatThrownBy(() -> ContentSniffer.sniff("report.docx", SampleDocuments.pdf()))
        .isInstanceOf(RagException.class)
        .hasMessage("report.docx is not a Word (.docx) document: its content is a PDF document; rename it to "
            + ".pdf and upload it again");
    assertThatThrownBy(() -> ContentSniffer.sniff("manual.pdf", SampleDocuments.docx()))
        .hasMessageContaining("manual.pdf is not a PDF document: its content is a Word (.docx) document");
    assertThatThrownBy(() -> ContentSniffer.sniff("notes.md", SampleDocuments.xlsx()))
        .hasMessageContaining("its content is an Excel (.xlsx) document; rename it to .xlsx");
    assertThatThrownBy(() -> ContentSniffer.sniff("manual.pdf", "just text".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("manual.pdf is not a PDF document: its content is plain text");
    assertThat(ContentSniffer.sniff("notes.txt", "# Notes".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(SourceFormat.TEXT);
    // a text that quotes a PDF header is still text; a PDF may have bytes before its header
    assertThat(ContentSniffer.sniff("pdf-notes.md", "# PDF\n\nEvery file starts with %PDF-1.7."
        .getBytes(StandardCharsets.UTF_8))).isEqualTo(SourceFormat.MARKDOWN);
    byte[] prefixed = SampleDocuments.pdf();
    byte[] junk = new byte[prefixed.length + 100];
    System.arraycopy(prefixed, 0, junk, 100, prefixed.length);
    assertThat(ContentSniffer.sniff("mailed.pdf", junk)).isEqualTo(SourceFormat.PDF);
  }

  @Test
  void aLongPdfOverItsBudgetStopsWithTheBudgetNamed() {
    byte[] pdf = SampleDocuments.longPdf(200);
    DocumentParser hurried = new DocumentParser(320, 48, Duration.ofMillis(1));
    assertThatThrownBy(() -> hurried.parse("long.pdf", SourceFormat.PDF, pdf))
        .isInstanceOf(RagException.class).hasMessageContaining("long.pdf took longer than 1 ms to parse");
  }
}
