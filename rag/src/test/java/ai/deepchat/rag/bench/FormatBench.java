package ai.deepchat.rag.bench;

import ai.deepchat.rag.ingest.ContentSniffer;
import ai.deepchat.rag.ingest.DocumentParser;
import ai.deepchat.rag.ingest.ParsedDocument;
import ai.deepchat.rag.ingest.format.SampleDocuments;
import org.apache.poi.xslf.usermodel.SlideLayout;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xssf.usermodel.XSSFRow;
import org.apache.poi.xssf.usermodel.XSSFSheet;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFTable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Ingestion throughput per format ({@code bench/rag --formats}): a document of each format, of a few
 * hundred pages' worth of text, sniffed, extracted and chunked on one thread (embedding is measured
 * apart, in chunks/s). Reports MB/s of the file and pages (PDF), slides, rows or sections per second,
 * median of five runs after one warm-up.
 */
final class FormatBench {

  private static final int RUNS = 5;
  private static final String[] WORDS = ("relief valve opens at six bar and closes at five log every opening with "
      + "the time pressure name of watch officer pump impeller gasket bearing grease flange bolt torque deck "
      + "hatch drain bilge alarm sensor calibrate quarter harbour tide sluice gate").split(" ");

  private FormatBench() {
  }

  private record Sample(byte[] bytes, int units, String unit) {
  }

  static void run() throws IOException {
    Map<String, Sample> samples = new LinkedHashMap<>();
    samples.put("manual.pdf", new Sample(SampleDocuments.longPdf(300), 300, "pages"));
    samples.put("guide.docx", new Sample(docx(300), 300, "sections"));
    // the Word 97 and Excel 97 samples are small fixed files (POI writes no .doc; a generated .xls would
    // measure the same HSSF code as the workbook sample): their figure is per small file, not per size
    samples.put("winch-guide.doc", new Sample(SampleDocuments.doc(), 2, "sections"));
    samples.put("parts-legacy.xls", new Sample(SampleDocuments.xls(), 1, "workbooks"));
    samples.put("parts.xlsx", new Sample(xlsx(20_000), 20_000, "rows"));
    samples.put("parts.csv", new Sample(csv(20_000), 20_000, "rows"));
    samples.put("deck.pptx", new Sample(pptx(150), 150, "slides"));
    samples.put("book.epub", new Sample(SampleDocuments.epubBook(200), 200, "chapters"));
    samples.put("site.html", new Sample(html(300), 300, "sections"));
    DocumentParser parser = new DocumentParser(320, 48);
    System.out.printf("%n== ingestion throughput per format: sniff + extract + chunk, one thread, median of %d ==%n",
        RUNS);
    for (Map.Entry<String, Sample> entry : samples.entrySet()) {
      String name = entry.getKey();
      Sample sample = entry.getValue();
      ParsedDocument parsed = parser.parse(name, ContentSniffer.sniff(name, sample.bytes()), sample.bytes());
      double[] seconds = new double[RUNS];
      for (int r = 0; r < RUNS; r++) {
        long start = System.nanoTime();
        parser.parse(name, ContentSniffer.sniff(name, sample.bytes()), sample.bytes());
        seconds[r] = (System.nanoTime() - start) / 1e9;
      }
      Arrays.sort(seconds);
      double median = seconds[RUNS / 2];
      double mb = sample.bytes().length / 1e6;
      System.out.printf("%-12s %7.2f MB %6d %-8s -> %5d chunks  %7.3f s  %7.2f MB/s  %9.0f %s/s%n", name, mb,
          sample.units(), sample.unit(), parsed.chunks().size(), median, mb / median, sample.units() / median,
          sample.unit());
    }
  }

  private static byte[] docx(int sections) throws IOException {
    try (XWPFDocument doc = new XWPFDocument()) {
      for (int s = 1; s <= sections; s++) {
        doc.createParagraph().setStyle("Heading1");
        doc.getLastParagraph().createRun().setText("Section " + s);
        for (int p = 0; p < 4; p++) {
          doc.createParagraph().createRun().setText(prose(s * 4 + p));
        }
        if (s % 10 == 0) {
          XWPFTable table = doc.createTable(4, 3);
          table.getRow(0).getCell(0).setText("Valve");
          table.getRow(1).getCell(1).setText("6 bar");
        }
      }
      return write(doc::write);
    }
  }

  private static byte[] xlsx(int rows) throws IOException {
    try (XSSFWorkbook book = new XSSFWorkbook()) {
      XSSFSheet sheet = book.createSheet("Parts");
      String[] header = {"Part", "Price", "Stock", "Supplier", "Note"};
      for (int r = 0; r <= rows; r++) {
        XSSFRow row = sheet.createRow(r);
        for (int c = 0; c < header.length; c++) {
          if (r == 0) {
            row.createCell(c).setCellValue(header[c]);
          } else if (c == 1 || c == 2) {
            row.createCell(c).setCellValue(r * (c + 0.5));
          } else {
            row.createCell(c).setCellValue(header[c] + " " + r);
          }
        }
      }
      return write(book::write);
    }
  }

  private static byte[] csv(int rows) {
    StringBuilder csv = new StringBuilder("Part,Price,Stock,Supplier,Note\n");
    for (int r = 1; r <= rows; r++) {
      csv.append("Part ").append(r).append(',').append(r * 1.5).append(',').append(r % 97)
          .append(",Supplier ").append(r % 13).append(",\"note, with a comma\"\n");
    }
    return csv.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] pptx(int slides) throws IOException {
    try (XMLSlideShow show = new XMLSlideShow()) {
      for (int s = 1; s <= slides; s++) {
        XSLFSlide slide = show.createSlide(show.getSlideMasters().get(0).getLayout(SlideLayout.TITLE_AND_CONTENT));
        slide.getPlaceholder(0).setText("Slide " + s);
        slide.getPlaceholder(1).setText(prose(s) + "\n" + prose(s + 1) + "\n" + prose(s + 2));
      }
      return write(show::write);
    }
  }

  private static byte[] html(int sections) {
    StringBuilder html = new StringBuilder("<html><body><nav><a href=/>Home</a></nav><main><h1>Handbook</h1>");
    for (int s = 1; s <= sections; s++) {
      html.append("<h2>Section ").append(s).append("</h2>");
      for (int p = 0; p < 4; p++) {
        html.append("<p>").append(prose(s * 4 + p)).append("</p>");
      }
      html.append("<ul><li>first</li><li>second</li></ul>");
    }
    return html.append("</main></body></html>").toString().getBytes(StandardCharsets.UTF_8);
  }

  // about 60 words of varied prose: real text compresses far less than one sentence repeated
  private static String prose(int seed) {
    java.util.Random random = new java.util.Random(seed);
    StringBuilder text = new StringBuilder();
    for (int w = 0; w < 60; w++) {
      text.append(WORDS[random.nextInt(WORDS.length)]).append(w % 12 == 11 ? ". " : " ");
    }
    return text.toString().strip();
  }

  private interface Writer {
    void write(java.io.OutputStream out) throws IOException;
  }

  private static byte[] write(Writer writer) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writer.write(out);
    return out.toByteArray();
  }
}
