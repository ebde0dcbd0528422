package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.tokenizer.constrain.Grammar;
import ai.deepchat.tokenizer.constrain.SchemaException;
import io.vertx.core.json.JsonObject;

import java.util.regex.Pattern;

/**
 * OpenAI's {@code response_format}: {@code text} (free), {@code json_object} (any JSON object) or
 * {@code json_schema} (JSON valid under the schema), enforced by constrained decoding. The schema is
 * compiled here, at the edge, so an unsupported keyword is a 400 naming it before any model time is
 * spent; the compiled grammar is cached for the worker. {@code strict: false} is enforced as strictly
 * as true (there is no weaker mode). No "JSON" is required in the messages: the grammar, not the
 * prompt, keeps the output valid and finite.
 */
final class ResponseFormat {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  private ResponseFormat() {
  }

  /** The constraint {@code value} asks for, null for free text. */
  static OutputConstraint parse(Object value, int maxTokens) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject f) || !(f.getValue("type") instanceof String type)) {
      throw bad("'response_format' must be an object with a 'type' of 'text', 'json_object' or 'json_schema'.");
    }
    OutputConstraint c = switch (type) {
      case "text" -> null;
      case "json_object" -> OutputConstraint.jsonObject();
      case "json_schema" -> jsonSchema(f.getValue("json_schema"));
      default -> throw bad("response_format.type must be 'text', 'json_object' or 'json_schema', not '" + type + "'.");
    };
    if (c != null) {
      Grammar g = compile(c);
      if (g.minTokens() > maxTokens) {
        throw HttpProblem.badRequest("invalid_max_tokens", "max_tokens " + maxTokens + " cannot hold the shortest "
            + "output response_format allows (" + g.minTokens() + " tokens).");
      }
    }
    return c;
  }

  private static OutputConstraint jsonSchema(Object value) {
    if (!(value instanceof JsonObject js)) {
      throw bad("response_format.json_schema must be an object with 'name' and 'schema'.");
    }
    if (!(js.getValue("name") instanceof String name) || !NAME.matcher(name).matches()) {
      throw bad("response_format.json_schema.name must be 1-64 letters, digits, '_' or '-'.");
    }
    Object strict = js.getValue("strict");
    if (strict != null && !(strict instanceof Boolean)) {
      throw bad("response_format.json_schema.strict must be true or false.");
    }
    if (!(js.getValue("schema") instanceof JsonObject schema)) {
      throw bad("response_format.json_schema.schema must be a JSON Schema object.");
    }
    return OutputConstraint.jsonSchema(schema.encode());
  }

  private static Grammar compile(OutputConstraint c) {
    try {
      return Grammar.of(c);
    } catch (SchemaException e) {
      throw bad("response_format.json_schema.schema: " + e.getMessage() + ".");
    }
  }

  private static HttpProblem bad(String message) {
    return HttpProblem.badRequest("invalid_response_format", message);
  }
}
