package ai.deepchat.chat.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@code POST /v1/embeddings} body, checked field by field: an unknown field or a value out of range
 * is a 400 naming it, never silently dropped or changed.
 */
record EmbeddingsRequest(String model, List<String> input, boolean base64, Integer dimensions) {

  static final int MAX_INPUTS = 256;
  private static final Set<String> FIELDS = Set.of("model", "input", "encoding_format", "dimensions", "user");

  static EmbeddingsRequest parse(JsonObject body) {
    for (String field : body.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw HttpProblem.badRequest("unknown_field", "Unknown field '" + field + "'; this endpoint takes "
            + String.join(", ", FIELDS.stream().sorted().toList()) + ".");
      }
    }
    if (!(body.getValue("model") instanceof String model) || model.isBlank()) {
      throw HttpProblem.badRequest("invalid_model", "'model' must name an embedding model (GET /v1/models lists chat "
          + "models; the embedding models are listed in docs/api.md).");
    }
    List<String> input = input(body.getValue("input"));
    Object format = body.getValue("encoding_format", "float");
    if (!"float".equals(format) && !"base64".equals(format)) {
      throw HttpProblem.badRequest("invalid_encoding_format", "'encoding_format' must be \"float\" or \"base64\".");
    }
    Object dimensions = body.getValue("dimensions");
    if (dimensions != null && !(dimensions instanceof Integer)) {
      throw HttpProblem.badRequest("invalid_dimensions", "'dimensions' must be an integer.");
    }
    return new EmbeddingsRequest(model, input, "base64".equals(format), (Integer) dimensions);
  }

  private static List<String> input(Object value) {
    if (value instanceof String text) {
      return List.of(nonEmpty(text, "input"));
    }
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw HttpProblem.badRequest("invalid_input", "'input' must be a string or a non-empty array of strings.");
    }
    if (array.size() > MAX_INPUTS) {
      throw HttpProblem.badRequest("invalid_input", "'input' holds " + array.size() + " texts; at most "
          + MAX_INPUTS + " per request.");
    }
    List<String> texts = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String text)) {
        throw HttpProblem.badRequest("invalid_input", "input[" + i + "] is not a string (token arrays are not "
            + "supported: send the text).");
      }
      texts.add(nonEmpty(text, "input[" + i + "]"));
    }
    return texts;
  }

  private static String nonEmpty(String text, String field) {
    // BERT's tokenizer drops control and format characters (a lone BOM, say) before it sees whitespace
    if (text.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0xFFFD
        || Character.getType(c) == Character.CONTROL || Character.getType(c) == Character.FORMAT)) {
      throw HttpProblem.badRequest("invalid_input", field + " is empty.");
    }
    return text;
  }
}
