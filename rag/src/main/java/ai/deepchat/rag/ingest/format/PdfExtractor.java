package ai.deepchat.rag.ingest.format;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.ingest.ParseDeadline;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.io.MemoryUsageSetting;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDResources;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.apache.pdfbox.text.PDFTextStripper;
import org.apache.pdfbox.text.TextPosition;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * PDF text layer through PDFBox, page by page: lines set in a font clearly larger than the body text
 * become headings (the largest size level 1), lines starting with a bullet or a number become list
 * items, and every page starts with a "p. N" marker so citations name the page. A PDF without any
 * text on any page is a scan: its pages are read by OCR ({@link TesseractOcr}), or, on a node without
 * it, the document is refused with "no text layer: OCR needed" rather than indexed empty. A page without
 * text but with an image, in a PDF with text on other pages (a scanned insert), is read by OCR too when
 * the node has it, within the same parse budget.
 *
 * <p>Tables: PDFBox gives characters with their positions, not tables. A line is cut into cells where
 * the gap between two characters is wider than {@link #CELL_GAP_EM} of the font size (far more than
 * a word space, even justified); consecutive lines with the same number (at least two) of cells whose
 * columns line up (each cell overlaps the one above it and no other) are a table, written as a
 * Markdown table with its first row as the header.
 */
final class PdfExtractor implements FormatExtractor {

  static final String NO_TEXT_LAYER = "no text layer: OCR needed";
  // a heading is set at least this much larger than the body
  private static final float HEADING_RATIO = 1.15f;
  private static final int MAX_HEADING_CHARS = 120;
  private static final Pattern BULLET = Pattern.compile("^[•●▪◦‣∙·\\-–*]\\s+");
  private static final Pattern NUMBERED = Pattern.compile("^\\d{1,3}[.)]\\s+");

  private static final float OCR_DPI = 300;
  // a page image of at most 25 megapixels (an A4 page at 300 dpi has 8.7), so a poster-sized page cannot
  // exhaust the heap
  private static final double OCR_MAX_PIXELS = 25e6;

  private final TesseractOcr ocr;

  PdfExtractor(TesseractOcr ocr) {
    this.ocr = ocr;
  }

  // a column gap: wider than this many font sizes (a word space is about a quarter of one)
  private static final float CELL_GAP_EM = 1.0f;

  /** One line of text with its largest font size, its page, and its cells (one when it is no table row). */
  private record Line(String text, float size, int page, boolean endsParagraph, List<Cell> cells) {
  }

  /** Text between column gaps, from {@code left} to {@code right} on the page. */
  private record Cell(String text, float left, float right) {
  }

  @Override
  public Extracted extract(String sourceName, byte[] bytes, ParseDeadline deadline) throws IOException {
    try (PDDocument pdf = Loader.loadPDF(bytes, "", null, null,
        MemoryUsageSetting.setupMixed(FormatLimits.PDF_MEMORY_BYTES).streamCache)) {
      int pages = pdf.getNumberOfPages();
      if (pages == 0) {
        throw new RagException(RagError.INVALID_INPUT, sourceName + " has no pages; the PDF may be damaged");
      }
      if (pages > FormatLimits.MAX_PDF_PAGES) {
        throw new RagException(RagError.INVALID_INPUT, sourceName + " has " + pages + " pages, above the limit of "
            + FormatLimits.MAX_PDF_PAGES + "; split it and upload the parts");
      }
      LineCollector collector = new LineCollector(sourceName, deadline);
      collector.writeText(pdf, Writer.nullWriter());
      List<Line> lines = collector.lines;
      String title = pdf.getDocumentInformation() == null ? null : pdf.getDocumentInformation().getTitle();
      if (lines.stream().allMatch(l -> l.text().isBlank())) {
        if (!ocr.available()) {
          throw new RagException(RagError.INVALID_INPUT, sourceName + ": " + NO_TEXT_LAYER + " (its " + pages
              + (pages == 1 ? " page is an image" : " pages are images") + ", a scan without text to index, "
              + "and this node has no OCR engine)");
        }
        return new Extracted(recognize(sourceName, pdf, deadline), title, true);
      }
      return new Extracted(render(sourceName, deadline, lines, scannedPages(pdf, lines, deadline)), title, true);
    } catch (InvalidPasswordException e) {
      throw new RagException(RagError.INVALID_INPUT, sourceName
          + " is password-protected; remove the password and upload it again");
    }
  }

  // A scan: each page rendered in grey and read by OCR.
  private String recognize(String sourceName, PDDocument pdf, ParseDeadline deadline) throws IOException {
    MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
    PDFRenderer renderer = new PDFRenderer(pdf);
    boolean any = false;
    for (int i = 0; i < pdf.getNumberOfPages(); i++) {
      deadline.check();
      String text = ocr.recognize(renderer.renderImageWithDPI(i, dpi(pdf.getPage(i)), ImageType.GRAY), deadline);
      out.location("p. " + (i + 1));
      any |= !text.isBlank();
      ocrParagraphs(out, text);
    }
    if (!any) {
      throw new RagException(RagError.INVALID_INPUT, sourceName + ": " + NO_TEXT_LAYER
          + ", and OCR found no text on its pages");
    }
    return out.markdown();
  }

  /** OCR text of the pages (1-based) that have an image and no text, when the node has OCR. */
  private Map<Integer, String> scannedPages(PDDocument pdf, List<Line> lines, ParseDeadline deadline)
      throws IOException {
    Map<Integer, String> read = new HashMap<>();
    if (!ocr.available()) {
      return read;
    }
    java.util.Set<Integer> withText = new java.util.HashSet<>();
    lines.stream().filter(l -> !l.text().isBlank()).forEach(l -> withText.add(l.page()));
    PDFRenderer renderer = null;
    for (int i = 0; i < pdf.getNumberOfPages(); i++) {
      if (withText.contains(i + 1) || !hasImage(pdf.getPage(i))) {
        continue;
      }
      deadline.check();
      renderer = renderer == null ? new PDFRenderer(pdf) : renderer;
      read.put(i + 1, ocr.recognize(renderer.renderImageWithDPI(i, dpi(pdf.getPage(i)), ImageType.GRAY), deadline));
    }
    return read;
  }

  private static boolean hasImage(PDPage page) throws IOException {
    PDResources resources = page.getResources();
    if (resources == null) {
      return false;
    }
    for (COSName name : resources.getXObjectNames()) {
      if (resources.isImageXObject(name)) {
        return true;
      }
    }
    return false;
  }

  // up to 300 dpi, fewer for huge pages
  private static float dpi(PDPage page) {
    PDRectangle box = page.getCropBox();
    double squareInches = Math.max(1, box.getWidth() / 72.0 * box.getHeight() / 72.0);
    return (float) Math.min(OCR_DPI, Math.sqrt(OCR_MAX_PIXELS / squareInches));
  }

  private static void ocrParagraphs(MarkdownWriter out, String text) {
    for (String paragraph : text.split("\\R\\s*\\R")) {
      out.paragraph(paragraph.replaceAll("\\s*\\R\\s*", " "));
    }
  }

  private static String render(String sourceName, ParseDeadline deadline, List<Line> lines,
                               Map<Integer, String> scanned) {
    float body = bodySize(lines);
    // distinct heading sizes, largest first: level 1, 2, then 3 for all smaller ones
    TreeSet<Float> headingSizes = new TreeSet<>((a, b) -> Float.compare(b, a));
    for (Line line : lines) {
      if (isHeading(line, body)) {
        headingSizes.add(round(line.size()));
      }
    }
    List<Float> levels = new ArrayList<>(headingSizes);
    MarkdownWriter out = new MarkdownWriter(sourceName, deadline);
    int page = 0;
    StringBuilder paragraph = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      Line line = lines.get(i);
      if (line.page() != page) {
        flush(out, paragraph);
        page = line.page();
        out.location("p. " + page);
        if (scanned.containsKey(page)) {
          ocrParagraphs(out, scanned.get(page));
        }
      }
      int end = tableEnd(lines, i);
      if (end > i) {
        flush(out, paragraph);
        out.table(lines.subList(i, end).stream().filter(row -> !row.text().isBlank())
            .map(row -> row.cells().stream().map(Cell::text).toList()).toList());
        i = end - 1;
        continue;
      }
      String text = line.text().strip();
      if (text.isEmpty()) {
        flush(out, paragraph);
      } else if (isHeading(line, body)) {
        flush(out, paragraph);
        out.heading(Math.min(3, levels.indexOf(round(line.size())) + 1), text);
      } else if (BULLET.matcher(text).find() || NUMBERED.matcher(text).find()) {
        flush(out, paragraph);
        boolean ordered = NUMBERED.matcher(text).find();
        paragraph.append(ordered ? text : BULLET.matcher(text).replaceFirst(""));
        flushItem(out, paragraph, ordered);
        continue;
      } else {
        // a wrapped line continues the paragraph; a hyphen at a line end joins the word
        if (paragraph.length() > 0 && paragraph.charAt(paragraph.length() - 1) == '-') {
          paragraph.setLength(paragraph.length() - 1);
        } else if (paragraph.length() > 0) {
          paragraph.append(' ');
        }
        paragraph.append(text);
      }
      if (line.endsParagraph()) {
        flush(out, paragraph);
      }
    }
    flush(out, paragraph);
    return out.markdown();
  }

  /**
   * The end (exclusive) of the table that starts at line {@code from}, after its last row; {@code from}
   * when fewer than two rows line up. Blank lines between rows belong to it.
   */
  private static int tableEnd(List<Line> lines, int from) {
    Line row = lines.get(from);
    if (row.cells().size() < 2) {
      return from;
    }
    int rows = 1;
    int end = from + 1;
    for (int i = from + 1; i < lines.size() && lines.get(i).page() == row.page(); i++) {
      Line line = lines.get(i);
      if (line.text().isBlank()) {
        continue;
      }
      if (!aligned(row.cells(), line.cells())) {
        break;
      }
      row = line;
      rows++;
      end = i + 1;
    }
    return rows >= 2 ? end : from;
  }

  // same number of cells, each overlapping the cell above it and none of its neighbours
  private static boolean aligned(List<Cell> above, List<Cell> row) {
    if (row.size() != above.size()) {
      return false;
    }
    for (int c = 0; c < row.size(); c++) {
      if (!overlaps(row.get(c), above.get(c))
          || c > 0 && overlaps(row.get(c), above.get(c - 1))
          || c + 1 < row.size() && overlaps(row.get(c), above.get(c + 1))) {
        return false;
      }
    }
    return true;
  }

  private static boolean overlaps(Cell a, Cell b) {
    return a.left() <= b.right() && b.left() <= a.right();
  }

  private static void flush(MarkdownWriter out, StringBuilder paragraph) {
    if (paragraph.length() > 0) {
      out.paragraph(paragraph.toString());
      paragraph.setLength(0);
    }
  }

  private static void flushItem(MarkdownWriter out, StringBuilder item, boolean ordered) {
    out.listItem(0, ordered, ordered ? NUMBERED.matcher(item).replaceFirst("") : item.toString());
    item.setLength(0);
  }

  private static boolean isHeading(Line line, float body) {
    String text = line.text().strip();
    return body > 0 && line.size() >= body * HEADING_RATIO && !text.isEmpty()
        && text.length() <= MAX_HEADING_CHARS && text.codePoints().anyMatch(Character::isLetter);
  }

  // the size most characters are set in
  private static float bodySize(List<Line> lines) {
    Map<Float, Integer> chars = new HashMap<>();
    for (Line line : lines) {
      chars.merge(round(line.size()), line.text().length(), Integer::sum);
    }
    return chars.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(0f);
  }

  private static float round(float size) {
    return Math.round(size * 2) / 2f;
  }

  /** PDFBox's text stripper, keeping lines with their font size and page instead of writing text. */
  private static final class LineCollector extends PDFTextStripper {
    private final String sourceName;
    private final ParseDeadline deadline;
    private final List<Line> lines = new ArrayList<>();
    private final StringBuilder current = new StringBuilder();
    private final List<TextPosition> positions = new ArrayList<>();
    private float size;
    private int chars;

    LineCollector(String sourceName, ParseDeadline deadline) {
      this.sourceName = sourceName;
      this.deadline = deadline;
    }

    @Override
    protected void startPage(PDPage page) throws IOException {
      deadline.check();
      super.startPage(page);
    }

    @Override
    protected void writeString(String text, List<TextPosition> positions) {
      current.append(text);
      for (TextPosition position : positions) {
        size = Math.max(size, position.getFontSizeInPt());
      }
      this.positions.addAll(positions);
      chars += text.length();
      if (chars > FormatLimits.MAX_TEXT_CHARS) {
        throw new RagException(RagError.INVALID_INPUT, sourceName + " holds more than " + FormatLimits.MAX_TEXT_CHARS
            + " characters of text; split it into smaller documents and upload them again");
      }
    }

    @Override
    protected void writeWordSeparator() {
      current.append(' ');
    }

    @Override
    protected void writeLineSeparator() {
      endLine(false);
    }

    @Override
    protected void writeParagraphEnd() {
      endLine(true);
    }

    @Override
    protected void endPage(PDPage page) throws IOException {
      endLine(true);
      super.endPage(page);
    }

    private void endLine(boolean paragraphEnd) {
      if (current.length() > 0 || paragraphEnd) {
        lines.add(new Line(current.toString(), size, getCurrentPageNo(), paragraphEnd, cells()));
      }
      current.setLength(0);
      positions.clear();
      size = 0;
    }

    // the line's characters cut at column gaps; a word space inside a cell becomes one space
    private List<Cell> cells() {
      List<Cell> cells = new ArrayList<>();
      StringBuilder text = new StringBuilder();
      float left = 0;
      float right = 0;
      for (TextPosition p : positions) {
        float x = p.getXDirAdj();
        float em = Math.max(1f, p.getFontSizeInPt());
        if (text.length() > 0 && x - right > CELL_GAP_EM * em) {
          cells.add(new Cell(text.toString().strip(), left, right));
          text.setLength(0);
        }
        if (text.length() == 0) {
          left = x;
        } else if (x - right > 0.15f * em) {
          text.append(' ');
        }
        text.append(p.getUnicode());
        right = Math.max(right, x + p.getWidthDirAdj());
      }
      if (text.length() > 0) {
        cells.add(new Cell(text.toString().strip(), left, right));
      }
      return cells;
    }
  }
}
