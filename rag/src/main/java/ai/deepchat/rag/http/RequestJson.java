package ai.deepchat.rag.http;

import ai.deepchat.platform.http.NulText;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.UUID;

/**
 * Reads request bodies and query strings strictly: a field or parameter we do not know, a value of the
 * wrong type or out of range is refused naming it, never ignored nor silently changed.
 */
final class RequestJson {

  private RequestJson() {
  }

  /** The body as a JSON object holding only {@code allowed} fields; an empty body reads as {}. */
  static JsonObject object(RoutingContext ctx, Set<String> allowed) {
    Buffer body = ctx.body().buffer();
    JsonObject json = new JsonObject();
    if (body != null && body.length() > 0) {
      Object parsed;
      try {
        String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body.getBytes())).toString();
        parsed = Json.decodeValue(text);
      } catch (CharacterCodingException e) {
        throw new ApiProblem(400, "invalid_utf8", null, "The request body is not valid UTF-8.");
      } catch (DecodeException e) {
        throw new ApiProblem(400, "invalid_json", null, "The request body is not valid JSON.");
      }
      if (!(parsed instanceof JsonObject object)) {
        throw new ApiProblem(400, "invalid_json", null, "The request body must be a JSON object.");
      }
      json = object;
    }
    String nul = NulText.find(json);
    if (nul != null) {
      throw new ApiProblem(400, "invalid_characters", nul, "'" + nul + "' contains a NUL character (\\u0000).");
    }
    for (String field : json.fieldNames()) {
      if (!allowed.contains(field)) {
        throw ApiProblem.invalid(field, "Unknown field '" + field + "'; expected " + String.join(", ",
            allowed.stream().sorted().toList()) + ".");
      }
    }
    return json;
  }

  /** A string field of 1 to {@code max} characters after trimming, or null when absent and optional. */
  static String string(JsonObject body, String field, int max, boolean required) {
    Object value = body.getValue(field);
    if (value == null) {
      if (required) {
        throw ApiProblem.invalid(field, "'" + field + "' is required.");
      }
      return null;
    }
    if (!(value instanceof String text) || text.isBlank() || text.length() > max) {
      throw ApiProblem.invalid(field, "'" + field + "' must be a string of 1 to " + max + " characters.");
    }
    return text;
  }

  /** Like {@link #string} but the empty string is a value (it clears a description). */
  static String text(JsonObject body, String field, int max) {
    Object value = body.getValue(field);
    if (value != null && !(value instanceof String text && text.length() <= max)) {
      throw ApiProblem.invalid(field, "'" + field + "' must be a string of at most " + max + " characters.");
    }
    return (String) value;
  }

  /** A whole number in [min, max], or {@code fallback} when absent. */
  static int integer(JsonObject body, String field, int min, int max, int fallback) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    return inRange(field, value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        ? n.doubleValue() : Double.NaN, min, max);
  }

  static Boolean bool(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value != null && !(value instanceof Boolean)) {
      throw ApiProblem.invalid(field, "'" + field + "' must be true or false.");
    }
    return (Boolean) value;
  }

  /** Refuses query parameters other than {@code allowed}, and repeated ones. */
  static MultiMap query(RoutingContext ctx, Set<String> allowed) {
    MultiMap params = ctx.queryParams();
    for (String name : params.names()) {
      if (!allowed.contains(name)) {
        throw ApiProblem.invalid(name, "Unknown query parameter '" + name + "'.");
      }
      if (params.getAll(name).size() > 1) {
        throw ApiProblem.invalid(name, "'" + name + "' is given more than once.");
      }
    }
    return params;
  }

  /** A whole-number query parameter in [min, max], or {@code fallback} when absent. */
  static int integer(MultiMap query, String name, int min, int max, int fallback) {
    String raw = query.get(name);
    if (raw == null) {
      return fallback;
    }
    double value;
    try {
      value = raw.matches("-?\\d{1,9}") ? Integer.parseInt(raw) : Double.NaN;
    } catch (NumberFormatException e) {
      value = Double.NaN;
    }
    return inRange(name, value, min, max);
  }

  /** A UUID query parameter, or null when absent. */
  static UUID uuid(MultiMap query, String name) {
    String raw = query.get(name);
    if (raw == null) {
      return null;
    }
    try {
      return UUID.fromString(raw);
    } catch (IllegalArgumentException e) {
      throw ApiProblem.invalid(name, "'" + name + "' must be an id from an earlier page.");
    }
  }

  private static int inRange(String name, double value, int min, int max) {
    if (Double.isNaN(value) || value < min || value > max) {
      throw ApiProblem.invalid(name, "'" + name + "' must be a whole number from " + min + " to " + max + ".");
    }
    return (int) value;
  }
}
