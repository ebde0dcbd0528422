package ai.deepchat.rag.eval;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * An uploaded evaluation set: JSON Lines, one {@code {"question", "document", "section"}} object a line
 * (other fields ignored), or CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks) whose
 * header row names the columns question, document and section. Every problem is reported with its line
 * number, and nothing is kept from a set with one.
 */
public final class EvalSetParser {

  public static final int MAX_QUESTIONS = 1_000;
  public static final int MAX_FIELD_CHARS = 2_000;
  /** Upload limit of a set: a thousand questions of a few hundred characters each. */
  public static final int MAX_SET_BYTES = 1024 * 1024;

  private EvalSetParser() {
  }

  public static List<EvalQuestion> jsonLines(String text) {
    List<EvalQuestion> out = new ArrayList<>();
    String[] lines = text.split("\\R");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      JsonObject json;
      try {
        json = new JsonObject(line);
      } catch (DecodeException | ClassCastException e) {
        throw invalid(i + 1, "is not a JSON object");
      }
      out.add(question(i + 1, field(json, "question"), field(json, "document"), field(json, "section")));
    }
    return checked(out);
  }

  public static List<EvalQuestion> csv(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<Integer> lines = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    int line = 1;
    int rowLine = 1;
    String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < body.length() && body.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          line += c == '\n' ? 1 : 0;
          field.append(c);
        }
      } else if (c == '"' && field.isEmpty()) {
        quoted = true;
      } else if (c == ',') {
        row.add(field.toString());
        field.setLength(0);
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < body.length() && body.charAt(i + 1) == '\n') {
          i++;
        }
        row.add(field.toString());
        field.setLength(0);
        rows.add(row);
        lines.add(rowLine);
        row = new ArrayList<>();
        rowLine = ++line;
      } else {
        field.append(c);
      }
    }
    if (quoted) {
      throw invalid(rowLine, "opens a quoted field that never closes");
    }
    if (!field.isEmpty() || !row.isEmpty()) {
      row.add(field.toString());
      rows.add(row);
      lines.add(rowLine);
    }
    if (rows.isEmpty()) {
      return checked(List.of());
    }
    List<String> header = rows.get(0).stream().map(h -> h.strip().toLowerCase(java.util.Locale.ROOT)).toList();
    int q = header.indexOf("question");
    int d = header.indexOf("document");
    int s = header.indexOf("section");
    if (q < 0 || d < 0) {
      throw invalid(1, "must be a header naming the columns question, document and section");
    }
    List<EvalQuestion> out = new ArrayList<>();
    for (int r = 1; r < rows.size(); r++) {
      List<String> cells = rows.get(r);
      if (cells.stream().allMatch(String::isBlank)) {
        continue;
      }
      out.add(question(lines.get(r), cell(cells, q), cell(cells, d), cell(cells, s)));
    }
    return checked(out);
  }

  private static String cell(List<String> cells, int column) {
    return column >= 0 && column < cells.size() ? cells.get(column) : null;
  }

  static EvalQuestion question(int line, String question, String document, String section) {
    if (question == null || question.isBlank()) {
      throw invalid(line, "has no question");
    }
    if (document == null || document.isBlank()) {
      throw invalid(line, "has no expected document");
    }
    for (String value : new String[] {question, document, section}) {
      if (value != null && value.length() > MAX_FIELD_CHARS) {
        throw invalid(line, "has a field longer than " + MAX_FIELD_CHARS + " characters");
      }
    }
    return new EvalQuestion(question, document, section);
  }

  static List<EvalQuestion> checked(List<EvalQuestion> questions) {
    if (questions.isEmpty()) {
      throw new RagException(RagError.INVALID_INPUT, "the evaluation set has no questions");
    }
    if (questions.size() > MAX_QUESTIONS) {
      throw new RagException(RagError.INVALID_INPUT,
          "the evaluation set has more than " + MAX_QUESTIONS + " questions");
    }
    return List.copyOf(questions);
  }

  private static String field(JsonObject json, String name) {
    Object value = json.getValue(name);
    return value == null ? null : value.toString();
  }

  static RagException invalid(int line, String what) {
    return new RagException(RagError.INVALID_INPUT, "line " + line + " " + what);
  }
}
