package ai.deepchat.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OpenAPI 3.0 description read into what the fuzzer needs: its operations with parameters, request
 * body and responses, every schema with its {@code $ref}s inlined and OpenAPI's {@code nullable}
 * turned into JSON Schema (draft 4, whose boolean {@code exclusiveMinimum} OpenAPI 3.0 shares), so that
 * a standard JSON Schema validator can check the responses.
 */
final class OpenApiDescription {

  /** One parameter: {@code in} is path, query or header. */
  record Param(String name, String in, boolean required, JsonObject schema) {
  }

  /**
   * One operation. {@code body}: media type to schema (empty without a body); {@code responses}: status
   * to (media type to schema, empty when the response has no body); {@code security}: scheme names
   * (empty: public).
   */
  record Operation(String method, String path, List<Param> params, boolean bodyRequired,
                   Map<String, JsonObject> body, Map<String, Map<String, JsonObject>> responses,
                   List<String> security) {

    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  private final JsonObject root;
  private final List<Operation> operations = new ArrayList<>();

  private OpenApiDescription(JsonObject root) {
    this.root = root;
    root.getJsonObject("paths").forEach(p -> {
      JsonObject item = (JsonObject) p.getValue();
      for (String method : List.of("get", "post", "put", "patch", "delete")) {
        if (item.containsKey(method)) {
          operations.add(operation(method.toUpperCase(), p.getKey(), item.getJsonObject(method)));
        }
      }
    });
  }

  static OpenApiDescription load(Path file) throws IOException {
    Map<String, Object> yaml = new Yaml(new LoaderOptions()).load(Files.readString(file));
    return new OpenApiDescription(new JsonObject(yaml));
  }

  List<Operation> operations() {
    return operations;
  }

  /** The schema of a component ({@code #/components/schemas/<name>}), resolved. */
  JsonObject component(String name) {
    return schema(new JsonObject().put("$ref", "#/components/schemas/" + name));
  }

  private Operation operation(String method, String path, JsonObject op) {
    List<Param> params = new ArrayList<>();
    for (Object o : op.getJsonArray("parameters", new JsonArray())) {
      JsonObject p = resolve((JsonObject) o);
      params.add(new Param(p.getString("name"), p.getString("in"), p.getBoolean("required", false),
          schema(p.getJsonObject("schema", new JsonObject()))));
    }
    Map<String, JsonObject> body = new LinkedHashMap<>();
    boolean bodyRequired = false;
    if (op.containsKey("requestBody")) {
      JsonObject rb = resolve(op.getJsonObject("requestBody"));
      bodyRequired = rb.getBoolean("required", false);
      rb.getJsonObject("content").forEach(c -> body.put(c.getKey(),
          schema(((JsonObject) c.getValue()).getJsonObject("schema", new JsonObject()))));
    }
    Map<String, Map<String, JsonObject>> responses = new LinkedHashMap<>();
    op.getJsonObject("responses").forEach(r -> {
      Map<String, JsonObject> content = new LinkedHashMap<>();
      JsonObject resp = resolve((JsonObject) r.getValue());
      resp.getJsonObject("content", new JsonObject()).forEach(c -> content.put(c.getKey(),
          schema(((JsonObject) c.getValue()).getJsonObject("schema", new JsonObject()))));
      responses.put(r.getKey(), content);
    });
    List<String> security = new ArrayList<>();
    for (Object s : op.getJsonArray("security", new JsonArray())) {
      security.addAll(((JsonObject) s).fieldNames());
    }
    return new Operation(method, path, params, bodyRequired, body, responses, security);
  }

  /** A parameter, body or response object that may itself be a {@code $ref}. */
  private JsonObject resolve(JsonObject o) {
    while (o.containsKey("$ref")) {
      o = pointer(o.getString("$ref"));
    }
    return o;
  }

  private JsonObject pointer(String ref) {
    if (!ref.startsWith("#/")) {
      throw new IllegalArgumentException("only local references are supported: " + ref);
    }
    JsonObject at = root;
    for (String part : ref.substring(2).split("/")) {
      at = at.getJsonObject(part.replace("~1", "/").replace("~0", "~"));
    }
    return at;
  }

  /** A schema with references inlined and {@code nullable} as a JSON Schema type union (the description has no cycles). */
  private JsonObject schema(JsonObject s) {
    s = resolve(s);
    JsonObject out = new JsonObject();
    s.forEach(e -> out.put(e.getKey(), switch (e.getKey()) {
      case "properties" -> {
        JsonObject props = new JsonObject();
        ((JsonObject) e.getValue()).forEach(p -> props.put(p.getKey(), schema((JsonObject) p.getValue())));
        yield props;
      }
      case "items", "additionalProperties", "not" -> e.getValue() instanceof JsonObject j ? schema(j) : e.getValue();
      case "oneOf", "anyOf", "allOf" -> {
        JsonArray branches = new JsonArray();
        ((JsonArray) e.getValue()).forEach(b -> branches.add(schema((JsonObject) b)));
        yield branches;
      }
      default -> e.getValue();
    }));
    if (Boolean.TRUE.equals(out.remove("nullable"))) {
      if (out.containsKey("type")) {
        out.put("type", new JsonArray().add(out.getString("type")).add("null"));
      }
      if (out.containsKey("enum")) {
        out.getJsonArray("enum").add((Object) null);
      }
    }
    return out;
  }
}
