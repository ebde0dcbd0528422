package ai.deepchat.faq;

import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading and writing FAQ spreadsheets, hostile files included; no database needed. */
class FaqSheetTest {

  private static final List<FaqRow> ROWS = List.of(
      new FaqRow("How do I reset my password?", "Open **Settings**, then *Security*.\n\nA second paragraph, \"quoted\", with a, comma.", true),
      new FaqRow("营业时间？", "每天 9:00–18:00。", false),
      new FaqRow("=HYPERLINK(\"http://127.0.0.1/x\")", "-1+1 @sum", true));

  @Test
  void csvAndXlsxRoundTripEveryRowAsWritten() {
    for (FaqFormat format : FaqFormat.values()) {
      FaqSheet.Parsed parsed = FaqSheet.read(FaqSheet.write(ROWS, format), format);
      assertThat(parsed.problems()).as(format.name()).isEmpty();
      assertThat(parsed.rows()).as(format.name()).isEqualTo(ROWS);
    }
  }

  @Test
  void exportedCsvCellsNeverStartAFormula() {
    String csv = new String(FaqSheet.write(ROWS, FaqFormat.CSV), StandardCharsets.UTF_8);
    assertThat(csv).contains("\"'=HYPERLINK(\"\"http://127.0.0.1/x\"\")\"").contains("'-1+1 @sum");
    assertThat(csv.lines().skip(1)).noneMatch(line -> line.matches("^[=+\\-@].*"));
  }

  @Test
  void everyBadRowIsReportedWithItsNumberAndNoRowIsKept() {
    String csv = "question,answer,enabled\n"
        + "Good question,Good answer,yes\n"
        + ",an answer without a question,\n"
        + "Good question,the same question again,\n"
        + "Third,answer,maybe\n"
        + "Long," + "x".repeat(FaqSheet.MAX_ANSWER + 1) + ",\n";
    FaqSheet.Parsed parsed = FaqSheet.read(csv.getBytes(StandardCharsets.UTF_8), FaqFormat.CSV);
    assertThat(parsed.rows()).isEmpty();
    assertThat(parsed.problems()).extracting(FaqSheet.Problem::row, FaqSheet.Problem::column).containsExactly(
        org.assertj.core.groups.Tuple.tuple(3, "question"), org.assertj.core.groups.Tuple.tuple(4, "question"),
        org.assertj.core.groups.Tuple.tuple(5, "enabled"), org.assertj.core.groups.Tuple.tuple(6, "answer"));
    assertThat(parsed.problems().get(1).message()).contains("row 2");
  }

  @Test
  void headersAreCheckedAndChineseHeadersAccepted() {
    FaqSheet.Parsed unknown = FaqSheet.read("question,answer,category\nq,a,x\n".getBytes(StandardCharsets.UTF_8),
        FaqFormat.CSV);
    assertThat(unknown.problems()).singleElement().satisfies(p -> assertThat(p.message()).contains("category"));
    FaqSheet.Parsed missing = FaqSheet.read("question\nq\n".getBytes(StandardCharsets.UTF_8), FaqFormat.CSV);
    assertThat(missing.problems()).singleElement().satisfies(p -> assertThat(p.column()).isEqualTo("answer"));
    FaqSheet.Parsed chinese = FaqSheet.read("\ufeff问题,答案\n退货?,七天内可退\n\n".getBytes(StandardCharsets.UTF_8),
        FaqFormat.CSV);
    assertThat(chinese.rows()).containsExactly(new FaqRow("退货?", "七天内可退", null));
  }

  @Test
  void hostileFilesAreRefusedWhole() throws Exception {
    byte[] latin1 = "question,answer\ncaf\u00e9,ok\n".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(FaqSheet.read(latin1, FaqFormat.CSV).problems()).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("UTF-8"));
    assertThat(FaqSheet.read("not a zip".getBytes(StandardCharsets.UTF_8), FaqFormat.XLSX).problems()).hasSize(1);
    // a zip bomb dressed as a workbook: ~0.3 MB that would inflate past the cap; refused before POI expands it
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bomb)) {
      zip.putNextEntry(new ZipEntry("xl/worksheets/sheet1.xml"));
      byte[] zeros = new byte[1 << 20];
      for (long written = 0; written <= FaqSheet.MAX_INFLATED_BYTES; written += zeros.length) {
        zip.write(zeros);
      }
      zip.closeEntry();
    }
    assertThat(bomb.size()).isLessThan(1 << 20);
    assertThat(FaqSheet.read(bomb.toByteArray(), FaqFormat.XLSX).problems()).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("zip bomb"));
    StringBuilder many = new StringBuilder("question,answer\n");
    for (int i = 0; i <= FaqSheet.MAX_ROWS; i++) {
      many.append('q').append(i).append(",a\n");
    }
    assertThat(FaqSheet.read(many.toString().getBytes(StandardCharsets.UTF_8), FaqFormat.CSV).problems())
        .singleElement().satisfies(p -> assertThat(p.message()).contains("at most " + FaqSheet.MAX_ROWS));
  }

  @Test
  void anExternalEntityInAWorkbookIsNotResolved() throws Exception {
    // a workbook whose shared strings declare an external entity pointing at a local file
    byte[] valid = FaqSheet.write(List.of(new FaqRow("q", "a", true)), FaqFormat.XLSX);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(valid));
         ZipOutputStream zip = new ZipOutputStream(out)) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        byte[] content = in.readAllBytes();
        if (e.getName().equals("xl/sharedStrings.xml")) {
          content = new String(content, StandardCharsets.UTF_8)
              .replaceFirst("<sst", "<!DOCTYPE sst [<!ENTITY xxe SYSTEM \"file:///etc/hostname\">]><sst")
              .replace(">q<", ">&xxe;<").getBytes(StandardCharsets.UTF_8);
        }
        zip.putNextEntry(new ZipEntry(e.getName()));
        zip.write(content);
        zip.closeEntry();
      }
    }
    FaqSheet.Parsed parsed = FaqSheet.read(out.toByteArray(), FaqFormat.XLSX);
    String hostname = java.nio.file.Files.exists(java.nio.file.Path.of("/etc/hostname"))
        ? java.nio.file.Files.readString(java.nio.file.Path.of("/etc/hostname")).strip() : "\u0000none";
    assertThat(parsed.rows()).noneMatch(r -> r.question().contains(hostname));
    assertThat(XSSFWorkbook.class).isNotNull();
  }
}
