package ai.deepchat.faq;

import ai.deepchat.export.FormulaSafe;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.apache.poi.ss.usermodel.Cell;
import org.apache.poi.ss.usermodel.DataFormatter;
import org.apache.poi.ss.usermodel.Row;
import org.apache.poi.ss.usermodel.Sheet;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * FAQ answers to and from CSV (RFC 4180, UTF-8) and XLSX (first sheet), with a header row naming the
 * columns {@code question}, {@code answer} and optionally {@code enabled} (also 问题, 答案, 启用). Every
 * row is checked and every problem reported with its row number (the header is row 1), so a file is
 * either taken whole or refused whole. Blocking and CPU-bound: call on a worker.
 *
 * <p>Hostile files: an XLSX is a zip, so its inflated size is measured before POI opens it (a zip bomb
 * is refused, not expanded); POI reads its XML without external entities. Cells beginning with
 * {@code = + - @} are written to CSV behind an apostrophe, so a spreadsheet never runs them as a
 * formula, and read back without it.
 */
public final class FaqSheet {

  public static final int MAX_ROWS = 10_000;
  public static final int MAX_QUESTION = 1_000;
  public static final int MAX_ANSWER = 20_000;
  /** What an XLSX may inflate to: far above 10,000 full rows of text, far below a zip bomb's gigabytes. */
  static final long MAX_INFLATED_BYTES = 64L * 1024 * 1024;
  private static final Map<String, String> HEADERS = Map.of("question", "question", "问题", "question",
      "answer", "answer", "答案", "answer", "enabled", "enabled", "启用", "enabled");

  /** A refused row (or the whole file, row 0), with the column at fault when there is one. */
  public record Problem(int row, String column, String message) {
  }

  /** The rows of a file, or the problems that refuse it (then {@code rows} is empty). */
  public record Parsed(List<FaqRow> rows, List<Problem> problems) {
  }

  private FaqSheet() {
  }

  public static Parsed read(byte[] file, FaqFormat format) {
    List<List<String>> table;
    try {
      table = format == FaqFormat.CSV ? csv(file) : xlsx(file);
    } catch (Refused e) {
      return new Parsed(List.of(), List.of(new Problem(0, null, e.getMessage())));
    }
    return rows(table);
  }

  public static byte[] write(List<FaqRow> rows, FaqFormat format) {
    try {
      return format == FaqFormat.CSV ? writeCsv(rows) : writeXlsx(rows);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Parsed rows(List<List<String>> table) {
    List<Problem> problems = new ArrayList<>();
    if (table.isEmpty()) {
      return new Parsed(List.of(), List.of(new Problem(0, null, "the file is empty; the first row names the "
          + "columns question, answer and optionally enabled")));
    }
    Map<String, Integer> columns = new HashMap<>();
    List<String> header = table.get(0);
    for (int c = 0; c < header.size(); c++) {
      String name = header.get(c).strip().toLowerCase(Locale.ROOT);
      String column = HEADERS.get(name);
      if (column == null && !name.isEmpty()) {
        problems.add(new Problem(1, header.get(c), "unknown column '" + header.get(c)
            + "'; expected question, answer and optionally enabled"));
      } else if (column != null && columns.putIfAbsent(column, c) != null) {
        problems.add(new Problem(1, header.get(c), "column " + column + " appears twice"));
      }
    }
    for (String required : List.of("question", "answer")) {
      if (!columns.containsKey(required)) {
        problems.add(new Problem(1, required, "the header row has no " + required + " column"));
      }
    }
    if (table.size() - 1 > MAX_ROWS) {
      problems.add(new Problem(0, null, "the file has " + (table.size() - 1) + " rows; at most " + MAX_ROWS
          + " may be imported at once"));
    }
    if (!problems.isEmpty()) {
      return new Parsed(List.of(), problems);
    }
    List<FaqRow> rows = new ArrayList<>();
    Map<String, Integer> seen = new LinkedHashMap<>();
    for (int r = 1; r < table.size(); r++) {
      List<String> cells = table.get(r);
      if (cells.stream().allMatch(String::isBlank)) {
        continue; // spreadsheets end with empty rows
      }
      int rowNumber = r + 1;
      String question = text(cells, columns.get("question")).strip();
      String answer = text(cells, columns.get("answer")).strip();
      Integer enabledColumn = columns.get("enabled");
      String enabled = enabledColumn == null ? "" : text(cells, enabledColumn).strip().toLowerCase(Locale.ROOT);
      int before = problems.size();
      check(problems, rowNumber, "question", question, MAX_QUESTION);
      check(problems, rowNumber, "answer", answer, MAX_ANSWER);
      Boolean on = null; // left out: a new answer is enabled, an existing one keeps its state
      if (List.of("true", "yes", "y", "1", "是").contains(enabled)) {
        on = Boolean.TRUE;
      } else if (List.of("false", "no", "n", "0", "否").contains(enabled)) {
        on = Boolean.FALSE;
      } else if (!enabled.isEmpty()) {
        problems.add(new Problem(rowNumber, "enabled", "enabled must be true or false, not '" + enabled + "'"));
      }
      Integer earlier = question.isEmpty() ? null : seen.putIfAbsent(question, rowNumber);
      if (earlier != null) {
        problems.add(new Problem(rowNumber, "question", "the same question as row " + earlier));
      }
      if (problems.size() == before) {
        rows.add(new FaqRow(question, answer, on));
      }
    }
    return problems.isEmpty() ? new Parsed(rows, List.of()) : new Parsed(List.of(), problems);
  }

  private static void check(List<Problem> problems, int row, String column, String value, int max) {
    if (value.isEmpty()) {
      problems.add(new Problem(row, column, column + " is empty"));
    } else if (value.length() > max) {
      problems.add(new Problem(row, column, column + " has " + value.length() + " characters; at most " + max));
    } else if (value.indexOf('\0') >= 0) {
      problems.add(new Problem(row, column, column + " contains a NUL character"));
    }
  }

  private static String text(List<String> cells, int column) {
    return column < cells.size() ? unescape(cells.get(column)) : "";
  }

  private static List<List<String>> csv(byte[] file) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(file)).toString();
    } catch (CharacterCodingException e) {
      throw new Refused("the CSV file is not UTF-8 (save it as \"CSV UTF-8\")");
    }
    if (text.startsWith("\ufeff")) {
      text = text.substring(1); // Excel's "CSV UTF-8" starts with a byte-order mark
    }
    List<List<String>> table = new ArrayList<>();
    try (CSVParser parser = CSVFormat.RFC4180.builder().get().parse(new StringReader(text))) {
      for (CSVRecord record : parser) {
        if (table.size() > MAX_ROWS + 1) {
          break; // counted, not kept: the limit is reported
        }
        table.add(record.toList());
      }
    } catch (IOException | UncheckedIOException | IllegalStateException e) {
      throw new Refused("the CSV file cannot be read: " + e.getMessage());
    }
    return table;
  }

  private static List<List<String>> xlsx(byte[] file) {
    inflatedSize(file);
    List<List<String>> table = new ArrayList<>();
    DataFormatter formatter = new DataFormatter(Locale.ROOT);
    try (XSSFWorkbook workbook = new XSSFWorkbook(new ByteArrayInputStream(file))) {
      if (workbook.getNumberOfSheets() == 0) {
        return table;
      }
      Sheet sheet = workbook.getSheetAt(0);
      for (Row row : sheet) {
        while (table.size() < row.getRowNum()) {
          table.add(List.of()); // rows with no cells at all
        }
        if (table.size() > MAX_ROWS + 1) {
          break;
        }
        List<String> cells = new ArrayList<>();
        for (int c = 0; c < Math.max(0, row.getLastCellNum()); c++) {
          Cell cell = row.getCell(c);
          cells.add(cell == null ? "" : formatter.formatCellValue(cell));
        }
        table.add(cells);
      }
    } catch (IOException | RuntimeException e) {
      throw new Refused("the XLSX file cannot be read: " + e.getMessage());
    }
    return table;
  }

  // Reads the zip as it is, counting what it inflates to, before POI expands any of it.
  private static void inflatedSize(byte[] file) {
    long total = 0;
    byte[] buffer = new byte[64 * 1024];
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(file))) {
      ZipEntry entry;
      boolean any = false;
      while ((entry = zip.getNextEntry()) != null) {
        any = true;
        for (int n; (n = zip.read(buffer)) > 0; ) {
          total += n;
          if (total > MAX_INFLATED_BYTES) {
            throw new Refused("the XLSX file inflates to more than " + (MAX_INFLATED_BYTES >> 20)
                + " MiB; it is refused as a possible zip bomb");
          }
        }
        if (entry.getName().contains("..")) {
          throw new Refused("the XLSX file holds an entry outside its folder: " + entry.getName());
        }
      }
      if (!any) {
        throw new Refused("the file is not an XLSX workbook");
      }
    } catch (IOException e) {
      throw new Refused("the file is not an XLSX workbook: " + e.getMessage());
    }
  }

  private static byte[] writeCsv(List<FaqRow> rows) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}); // so Excel reads it as UTF-8
    try (Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
         CSVPrinter printer = new CSVPrinter(writer, CSVFormat.RFC4180)) {
      printer.printRecord("question", "answer", "enabled");
      for (FaqRow row : rows) {
        printer.printRecord(escape(row.question()), escape(row.answer()), row.enabled());
      }
    }
    return out.toByteArray();
  }

  private static byte[] writeXlsx(List<FaqRow> rows) throws IOException {
    try (XSSFWorkbook workbook = new XSSFWorkbook(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      Sheet sheet = workbook.createSheet("FAQ");
      Row header = sheet.createRow(0);
      header.createCell(0).setCellValue("question");
      header.createCell(1).setCellValue("answer");
      header.createCell(2).setCellValue("enabled");
      for (int i = 0; i < rows.size(); i++) {
        Row row = sheet.createRow(i + 1);
        // string cells: never a formula, whatever the text starts with
        row.createCell(0).setCellValue(rows.get(i).question());
        row.createCell(1).setCellValue(rows.get(i).answer());
        row.createCell(2).setCellValue(rows.get(i).enabled());
      }
      workbook.write(out);
      return out.toByteArray();
    }
  }

  private static String escape(String cell) {
    return FormulaSafe.cell(cell);
  }

  private static String unescape(String cell) {
    return cell.length() > 1 && cell.charAt(0) == '\'' && FormulaSafe.TRIGGERS.indexOf(cell.charAt(1)) >= 0
        ? cell.substring(1) : cell;
  }

  /** A file refused as a whole. */
  private static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }
}
