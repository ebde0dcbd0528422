package ai.deepchat.fuzz;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a response keeps to its operation's description: no 5xx, a documented status, a documented
 * media type, and a body valid against the documented schema (JSON), or for server-sent events every
 * {@code data:} line JSON (or {@code [DONE]}) and every error event valid against the Error schema.
 */
final class ResponseChecker {

  private static final JsonSchemaOptions OPTIONS = new JsonSchemaOptions().setDraft(Draft.DRAFT4)
      .setBaseUri("https://deepchat.invalid/openapi").setOutputFormat(OutputFormat.Basic);

  private final Validator errorSchema;
  private final Map<JsonObject, Validator> validators = new IdentityHashMap<>();

  ResponseChecker(OpenApiDescription description) {
    this.errorSchema = Validator.create(JsonSchema.of(description.component("Error")), OPTIONS);
  }

  /** The ways the response breaks the description; empty when it keeps to it. */
  List<String> violations(OpenApiDescription.Operation op, int status, String contentType, byte[] body) {
    List<String> out = new ArrayList<>();
    if (status >= 500) {
      out.add("server error " + status);
    }
    Map<String, JsonObject> documented = op.responses().get(String.valueOf(status));
    if (documented == null) {
      out.add("undocumented status " + status);
      return out;
    }
    if (documented.isEmpty()) {
      if (body.length > 0) {
        out.add("a body where none is documented");
      }
      return out;
    }
    String media = contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase();
    JsonObject schema = documented.get(media);
    if (schema == null) {
      out.add("undocumented media type '" + contentType + "' (documented: " + documented.keySet() + ")");
      return out;
    }
    String text = new String(body, StandardCharsets.UTF_8);
    if (media.equals("text/event-stream")) {
      events(text, out);
    } else if (media.equals("application/json")) {
      validate(validators.computeIfAbsent(schema, s -> Validator.create(JsonSchema.of(s), OPTIONS)), text, out);
    }
    return out;
  }

  private void events(String text, List<String> out) {
    for (String line : text.split("\n")) {
      if (!line.startsWith("data:")) {
        continue;
      }
      String data = line.substring(5).trim();
      if (data.equals("[DONE]")) {
        continue;
      }
      try {
        JsonObject event = new JsonObject(data);
        if (event.containsKey("error")) {
          validate(errorSchema, data, out);
        }
      } catch (DecodeException | ClassCastException e) {
        out.add("event data is not a JSON object: " + abbreviate(data));
      }
    }
  }

  private static void validate(Validator validator, String text, List<String> out) {
    Object json;
    try {
      json = io.vertx.core.json.Json.decodeValue(text);
    } catch (DecodeException e) {
      out.add("body is not JSON: " + abbreviate(text));
      return;
    }
    OutputUnit result = validator.validate(json);
    if (!result.getValid()) {
      StringBuilder why = new StringBuilder("body does not match its schema:");
      for (OutputUnit e : result.getErrors() == null ? List.<OutputUnit>of() : result.getErrors()) {
        why.append(' ').append(e.getInstanceLocation()).append(": ").append(e.getError()).append(';');
      }
      out.add(why + " body " + abbreviate(text));
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
