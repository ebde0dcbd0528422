package ai.deepchat.tokenizer.constrain;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles the JSON Schema subset of strict structured output into a {@link Node}: type (one or an
 * array, so "nullable" is {@code ["string", "null"]}), properties, required, additionalProperties
 * (false, true or absent: only listed properties are written either way), enum, const, anyOf, items,
 * prefixItems, minItems/maxItems (at most {@value #MAX_ITEMS}), $defs/definitions with non-recursive
 * local $ref, and the annotations (title, description, ...). Anything else is a {@link SchemaException}
 * naming the keyword: never a silent relaxation.
 */
final class SchemaCompiler {
  static final int MAX_ITEMS = 256;
  static final int MAX_ENUM = 1024;
  // Masks are computed on the engine's scheduler thread, shared by every tenant's generations: the
  // bounds keep one schema's automaton (alternatives followed at once, nesting) cheap enough to walk.
  static final int MAX_ANY_OF = 16;
  static final int MAX_NODES = 2000;
  static final int MAX_DEPTH = 32;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment",
      "examples", "default", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
  private static final Set<String> STRUCTURE = Set.of("type", "properties", "required", "additionalProperties",
      "enum", "const", "anyOf", "items", "prefixItems", "minItems", "maxItems", "$ref");

  private final JsonNode root;
  private final Map<String, Node> refs = new HashMap<>();
  private final Deque<String> resolving = new ArrayDeque<>();
  private int nodes;
  private int depth;

  private SchemaCompiler(JsonNode root) {
    this.root = root;
  }

  /** The value a schema (JSON text) describes. */
  static Node compile(String schemaJson) {
    JsonNode root;
    try {
      root = JSON.readTree(schemaJson);
    } catch (JsonProcessingException e) {
      throw new SchemaException("schema", "", "the schema is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new SchemaException("schema", "", "the schema is empty");
    }
    return new SchemaCompiler(root).node(root, "");
  }

  private Node node(JsonNode s, String path) {
    if (++nodes > MAX_NODES) {
      throw new SchemaException("schema", path, "the schema has more than " + MAX_NODES + " subschemas");
    }
    if (++depth > MAX_DEPTH) {
      throw new SchemaException("schema", path, "the schema nests deeper than " + MAX_DEPTH + " levels");
    }
    try {
      return compileNode(s, path);
    } finally {
      depth--;
    }
  }

  private Node compileNode(JsonNode s, String path) {
    if (s.isBoolean()) {
      if (!s.booleanValue()) {
        throw new SchemaException("false", path, "the schema 'false' allows no value");
      }
      return AnyValue.value();
    }
    if (!s.isObject()) {
      throw new SchemaException("schema", path, "a schema must be an object or a boolean");
    }
    for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!STRUCTURE.contains(k) && !ANNOTATIONS.contains(k)) {
        throw new SchemaException(k, path + "/" + k, "unsupported JSON Schema keyword");
      }
    }
    if (s.has("$ref")) {
      only(s, path, "$ref");
      return ref(s.get("$ref"), path + "/$ref");
    }
    if (s.has("const")) {
      only(s, path, "const", "type", "enum");
      return literal(List.of(s.get("const")), path + "/const");
    }
    if (s.has("enum")) {
      only(s, path, "enum", "type");
      JsonNode e = s.get("enum");
      if (!e.isArray() || e.isEmpty() || e.size() > MAX_ENUM) {
        throw new SchemaException("enum", path + "/enum", "'enum' must be an array of 1 to " + MAX_ENUM + " values");
      }
      List<JsonNode> values = new ArrayList<>();
      e.forEach(values::add);
      return literal(values, path + "/enum");
    }
    if (s.has("anyOf")) {
      only(s, path, "anyOf");
      JsonNode a = s.get("anyOf");
      if (!a.isArray() || a.isEmpty() || a.size() > MAX_ANY_OF) {
        throw new SchemaException("anyOf", path + "/anyOf", "'anyOf' must be an array of 1 to " + MAX_ANY_OF
            + " schemas");
      }
      List<Node> alts = new ArrayList<>();
      for (int i = 0; i < a.size(); i++) {
        alts.add(node(a.get(i), path + "/anyOf/" + i));
      }
      return Union.of(alts);
    }
    List<String> types = types(s, path);
    if (types.isEmpty()) {
      return AnyValue.value(); // {} and annotation-only schemas allow any value
    }
    List<Node> alts = new ArrayList<>();
    for (String t : types) {
      alts.add(switch (t) {
        case "object" -> object(s, path);
        case "array" -> array(s, path);
        case "string" -> StringValue.INSTANCE;
        case "number" -> NumberValue.NUMBER;
        case "integer" -> NumberValue.INTEGER;
        case "boolean" -> Literal.of(Symbols.utf8("true"), Symbols.utf8("false"));
        case "null" -> Literal.of(Symbols.utf8("null"));
        default -> throw new SchemaException("type", path + "/type", "unknown type '" + t + "'");
      });
    }
    return Union.of(alts);
  }

  /** The schema's types; without "type", what its keywords imply ("any" when nothing does). */
  private static List<String> types(JsonNode s, String path) {
    JsonNode t = s.get("type");
    if (t == null) {
      if (s.has("properties") || s.has("required") || s.has("additionalProperties")) {
        return List.of("object");
      }
      return s.has("items") || s.has("prefixItems") ? List.of("array") : List.of();
    }
    List<String> out = new ArrayList<>();
    if (t.isTextual()) {
      out.add(t.textValue());
    } else if (t.isArray() && !t.isEmpty()) {
      for (JsonNode e : t) {
        if (!e.isTextual() || out.contains(e.textValue())) {
          throw new SchemaException("type", path + "/type", "'type' must be a type name or an array of distinct ones");
        }
        out.add(e.textValue());
      }
    } else {
      throw new SchemaException("type", path + "/type", "'type' must be a type name or an array of them");
    }
    return out;
  }

  private static void only(JsonNode s, String path, String keyword, String... besides) {
    Set<String> ok = new HashSet<>(List.of(besides));
    ok.add(keyword);
    for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (STRUCTURE.contains(k) && !ok.contains(k)) {
        throw new SchemaException(k, path + "/" + k, "'" + k + "' beside '" + keyword + "' is not supported");
      }
    }
  }

  private Node object(JsonNode s, String path) {
    JsonNode props = s.get("properties");
    if (props != null && !props.isObject()) {
      throw new SchemaException("properties", path + "/properties", "'properties' must be an object");
    }
    JsonNode extra = s.get("additionalProperties");
    if (extra != null && !extra.isBoolean() && !(extra.isObject() && extra.isEmpty())) {
      throw new SchemaException("additionalProperties", path + "/additionalProperties",
          "'additionalProperties' must be false or true (a schema for extra properties is not supported)");
    }
    Set<String> required = new HashSet<>();
    JsonNode req = s.get("required");
    if (req != null) {
      if (!req.isArray()) {
        throw new SchemaException("required", path + "/required", "'required' must be an array of property names");
      }
      for (JsonNode r : req) {
        if (!r.isTextual() || props == null || !props.has(r.textValue())) {
          throw new SchemaException("required", path + "/required",
              "required property " + r + " is not in 'properties'");
        }
        required.add(r.textValue());
      }
    }
    List<String> keys = new ArrayList<>();
    List<Node> values = new ArrayList<>();
    List<Boolean> isRequired = new ArrayList<>();
    if (props != null) {
      for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        keys.add(canonical(TextNode.valueOf(p.getKey())));
        values.add(node(p.getValue(), path + "/properties/" + escape(p.getKey())));
        isRequired.add(required.contains(p.getKey()));
      }
    }
    return new ObjectValue(keys, values, isRequired);
  }

  private Node array(JsonNode s, String path) {
    int minItems = count(s, "minItems", path, 0);
    int maxItems = count(s, "maxItems", path, -1);
    if (maxItems >= 0 && maxItems < minItems) {
      throw new SchemaException("maxItems", path + "/maxItems", "'maxItems' is below 'minItems'");
    }
    List<Node> prefix = new ArrayList<>();
    JsonNode p = s.get("prefixItems");
    if (p != null) {
      if (!p.isArray()) {
        throw new SchemaException("prefixItems", path + "/prefixItems", "'prefixItems' must be an array of schemas");
      }
      for (int i = 0; i < p.size(); i++) {
        prefix.add(node(p.get(i), path + "/prefixItems/" + i));
      }
    }
    JsonNode items = s.get("items");
    Node item = items == null ? AnyValue.value()
        : items.isBoolean() && !items.booleanValue() ? null : node(items, path + "/items");
    if (item == null && minItems > prefix.size()) {
      throw new SchemaException("minItems", path + "/minItems", "'minItems' exceeds the items the array may hold");
    }
    return new ArrayValue(prefix.toArray(Node[]::new), item, minItems, maxItems);
  }

  private static int count(JsonNode s, String keyword, String path, int absent) {
    JsonNode v = s.get(keyword);
    if (v == null) {
      return absent;
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0 || v.intValue() > MAX_ITEMS) {
      throw new SchemaException(keyword, path + "/" + keyword, "'" + keyword + "' must be an integer from 0 to " + MAX_ITEMS);
    }
    return v.intValue();
  }

  private Node ref(JsonNode r, String path) {
    if (!r.isTextual()) {
      throw new SchemaException("$ref", path, "'$ref' must be a string");
    }
    String ref = r.textValue();
    Node done = refs.get(ref);
    if (done != null) {
      return done;
    }
    if (resolving.contains(ref)) {
      throw new SchemaException("$ref", path, "recursive $ref '" + ref + "' is not supported");
    }
    JsonNode target = ref.startsWith("#/$defs/") || ref.startsWith("#/definitions/")
        ? root.at(ref.substring(1)) : null;
    if (target == null || target.isMissingNode()) {
      throw new SchemaException("$ref", path, "only local '#/$defs/NAME' references are supported, '" + ref
          + "' does not resolve");
    }
    resolving.push(ref);
    Node n = node(target, ref.substring(1));
    resolving.pop();
    refs.put(ref, n);
    return n;
  }

  private static Node literal(List<JsonNode> values, String path) {
    int[][] options = new int[values.size()][];
    for (int i = 0; i < options.length; i++) {
      options[i] = Symbols.utf8(canonical(values.get(i)));
    }
    return Literal.of(options);
  }

  /** Compact JSON, the form the output takes (no whitespace is ever generated outside strings). */
  private static String canonical(JsonNode value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }
}
