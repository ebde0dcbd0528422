package ai.deepchat.rag.eval;

import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * An uploaded evaluation set: JSON Lines, one {@code {"question", "document", "section"}} object a line
 * (other fields ignored). Every problem is reported with its line number, and nothing is kept from a set
 * with one.
 */
public final class EvalSetParser {

  public static final int MAX_QUESTIONS = 1_000;
  public static final int MAX_FIELD_CHARS = 2_000;

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
