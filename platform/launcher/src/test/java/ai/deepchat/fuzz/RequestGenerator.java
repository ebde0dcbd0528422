package ai.deepchat.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Requests for one operation of an {@link OpenApiDescription}: a valid one drawn from its schemas, then
 * mutations of it (a required field dropped, a wrong type, an extra field, huge or negative numbers,
 * NUL and other awkward Unicode, invalid UTF-8 bytes, malformed JSON, a wrong content type, bad or
 * missing credentials and parameters). Seeded: the same seed gives the same requests. {@code known}
 * offers real values by property or parameter name (a widget key, an existing conversation id), used
 * half the time so that valid requests get past the lookups and reach the deeper code.
 */
final class RequestGenerator {

  /** The body mutations; the parameter and credential ones follow them in {@link #next}. */
  private static final List<String> MUTATIONS = List.of("valid", "drop-required", "wrong-type", "extra-field",
      "extreme-number", "awkward-unicode", "invalid-utf8", "malformed-json", "wrong-content-type", "empty-body",
      "oversized-body", "bad-parameter", "missing-parameter", "bad-credentials");
  private static final List<String> WORDS = List.of("hello", "opening hours", "refund", "价格", "lamp", "Ünïcödé",
      "order 42", "مرحبا", "emoji 🙂");
  private static final List<String> AWKWARD = List.of("a\u0000b", "\u0000", "\ud83d\ude00\u200f\u202e", "\ufeff",
      "' OR 1=1 --", "<script>alert(1)</script>", "%00%ff", "\\u0000", "${jndi:ldap://127.0.0.1/x}",
      "\r\nX-Injected: 1", "x".repeat(70_000), "\u0085\u2028\u2029");
  /** Written into the JSON as they are: some do not fit a long or a double. */
  private static final List<String> EXTREME = List.of("-1", "0", "-2147483649", "9223372036854775808", "1e308",
      "-1e308", "3.5", "1e-300", "1e999", "-0", "18446744073709551616", "1.0", "-9.99e307");
  private static final List<String> MALFORMED = List.of("{", "{\"messages\":", "[]", "null", "1", "\"text\"",
      "{\"a\":1,}", "{'single': 'quotes'}", "{\"a\":NaN}", "{\"a\":1}{\"b\":2}", "[".repeat(5000),
      "{\"a\":\"\\ud800\"}", "{\"a\":\"unterminated");

  private final Random random;
  private final Map<String, String> credentials;
  private final Map<String, List<Object>> known;

  /** {@code credentials}: security scheme name to the token to send as {@code Bearer}. */
  RequestGenerator(long seed, Map<String, String> credentials, Map<String, List<Object>> known) {
    this.random = new Random(seed);
    this.credentials = credentials;
    this.known = known;
  }

  /** The i-th request for an operation: each mutation once in turn (the first valid), then mutations drawn at random. */
  FuzzRequest next(OpenApiDescription.Operation op, int i) {
    String mutation = MUTATIONS.get(i < MUTATIONS.size() ? i : random.nextInt(MUTATIONS.size()));
    Map<String, String> headers = new LinkedHashMap<>();
    Map<String, String> query = new LinkedHashMap<>();
    String path = op.path();
    OpenApiDescription.Param victim = op.params().isEmpty() ? null : op.params().get(random.nextInt(op.params().size()));
    for (OpenApiDescription.Param p : op.params()) {
      boolean isVictim = p == victim;
      // a path without its parameter is another operation's path (/v1/models/ is /v1/models): make it bad instead
      boolean missing = isVictim && mutation.equals("missing-parameter") && !p.in().equals("path");
      if (missing || !p.required() && !isVictim && random.nextInt(3) == 0) {
        continue;
      }
      String raw = isVictim && mutation.endsWith("-parameter") ? badParameter(p) : null;
      String value = raw != null ? raw : text(value(p.name(), p.schema(), 0));
      switch (p.in()) {
        case "path" -> path = path.replace("{" + p.name() + "}", raw != null ? raw : encode(value));
        case "query" -> query.put(p.name(), raw != null ? raw : encode(value));
        // the HTTP client sends visible ASCII only in header values
        case "header" -> {
          String ascii = value.replaceAll("[^\\x20-\\x7e]", "").strip();
          headers.put(p.name(), ascii.isEmpty() ? "x" : ascii);
        }
        default -> throw new IllegalStateException("unsupported parameter location " + p.in());
      }
    }
    StringBuilder uri = new StringBuilder(path);
    query.forEach((k, v) -> uri.append(uri.indexOf("?") < 0 ? '?' : '&').append(k).append('=').append(v));
    if (!op.security().isEmpty()) {
      String token = credentials.get(op.security().get(0));
      if (mutation.equals("bad-credentials")) {
        token = switch (random.nextInt(4)) {
          case 0 -> null;
          case 1 -> "garbage." + random.nextInt();
          case 2 -> "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
          default -> credentials.values().stream().filter(t -> !t.equals(credentials.get(op.security().get(0))))
              .findFirst().orElse("x");
        };
      }
      if (token != null) {
        headers.put("Authorization", "Bearer " + token);
      }
    }
    byte[] body = null;
    if (!op.body().isEmpty()) {
      Map.Entry<String, JsonObject> media = op.body().entrySet().iterator().next();
      headers.put("Content-Type", media.getKey());
      Object valid = value("", media.getValue(), 0);
      body = body(mutation, valid, media.getValue(), headers);
    } else if (mutation.equals("malformed-json")) {
      headers.put("Content-Type", "application/json");
      body = MALFORMED.get(random.nextInt(MALFORMED.size())).getBytes(StandardCharsets.UTF_8);
    }
    return new FuzzRequest(op, mutation, uri.toString(), headers, body);
  }

  private byte[] body(String mutation, Object valid, JsonObject schema, Map<String, String> headers) {
    switch (mutation) {
      case "drop-required" -> dropRequired(valid, schema);
      case "wrong-type" -> replaceSomewhere(valid, wrongType());
      case "extra-field" -> {
        if (valid instanceof JsonObject o) {
          o.put("x_fuzz_" + random.nextInt(1000), value("", new JsonObject(), 0));
        }
      }
      case "extreme-number" -> {
        replaceSomewhere(valid, "MARK");
        return json(valid).replace("\"MARK\"", EXTREME.get(random.nextInt(EXTREME.size())))
            .getBytes(StandardCharsets.UTF_8);
      }
      case "awkward-unicode" -> replaceSomewhere(valid, AWKWARD.get(random.nextInt(AWKWARD.size())));
      case "invalid-utf8" -> {
        replaceSomewhere(valid, "MARK");
        return invalidUtf8(json(valid));
      }
      case "malformed-json" -> {
        return MALFORMED.get(random.nextInt(MALFORMED.size())).getBytes(StandardCharsets.UTF_8);
      }
      case "wrong-content-type" -> headers.put("Content-Type", List.of("text/plain", "application/x-www-form-urlencoded",
          "application/xml", "multipart/form-data; boundary=x").get(random.nextInt(4)));
      case "empty-body" -> {
        return new byte[0];
      }
      case "oversized-body" -> {
        // past every body limit of the API (CHAT_MAX_BODY_BYTES is 1 MiB by default), still valid JSON
        replaceSomewhere(valid, "y".repeat(3 << 20));
      }
      default -> {
        // valid, or a parameter/credential mutation with a valid body
      }
    }
    return json(valid).getBytes(StandardCharsets.UTF_8);
  }

  /** A value valid for {@code schema}; {@code name} picks a known value half the time. */
  Object value(String name, JsonObject schema, int depth) {
    List<Object> k = known.get(name);
    if (k != null && !k.isEmpty() && random.nextBoolean()) {
      return k.get(random.nextInt(k.size()));
    }
    if (schema.containsKey("enum")) {
      JsonArray e = schema.getJsonArray("enum");
      return e.getValue(random.nextInt(e.size()));
    }
    if (schema.containsKey("oneOf")) {
      JsonArray b = schema.getJsonArray("oneOf");
      return value(name, b.getJsonObject(random.nextInt(b.size())), depth);
    }
    Object type = schema.getValue("type");
    String t = type instanceof JsonArray a ? a.getString(0) : (String) type;
    if (t == null) {
      t = depth > 2 ? "string" : List.of("string", "integer", "boolean", "object").get(random.nextInt(4));
    }
    return switch (t) {
      case "object" -> {
        JsonObject o = new JsonObject();
        JsonObject props = schema.getJsonObject("properties", new JsonObject());
        JsonArray required = schema.getJsonArray("required", new JsonArray());
        props.forEach(p -> {
          if (required.contains(p.getKey()) || random.nextBoolean()) {
            o.put(p.getKey(), value(p.getKey(), (JsonObject) p.getValue(), depth + 1));
          }
        });
        yield o;
      }
      case "array" -> {
        int min = schema.getInteger("minItems", 0);
        int max = Math.min(schema.getInteger("maxItems", min + 3), min + 3);
        JsonArray a = new JsonArray();
        int n = min + random.nextInt(max - min + 1);
        for (int i = 0; i < n; i++) {
          a.add(value(name, schema.getJsonObject("items", new JsonObject()), depth + 1));
        }
        yield a;
      }
      case "integer" -> {
        long min = schema.getLong("minimum", 0L);
        long max = Math.min(schema.getLong("maximum", min + 16), min + 16);
        yield min + (long) random.nextInt((int) (max - min + 1));
      }
      case "number" -> {
        double min = schema.getDouble("minimum", 0.0);
        double max = schema.getDouble("maximum", min + 10);
        double v = min + random.nextDouble() * (max - min);
        yield v == min && schema.getBoolean("exclusiveMinimum", false) ? max : v;
      }
      case "boolean" -> random.nextBoolean();
      default -> string(schema);
    };
  }

  private String string(JsonObject schema) {
    if ("uuid".equals(schema.getString("format"))) {
      return UUID.randomUUID().toString();
    }
    int min = schema.getInteger("minLength", 0);
    int max = schema.getInteger("maxLength", 60);
    String pattern = schema.getString("pattern");
    for (int tries = 0; tries < 100; tries++) {
      String s = pattern != null ? token(1 + random.nextInt(20)) : WORDS.get(random.nextInt(WORDS.size()))
          + (random.nextBoolean() ? " " + random.nextInt(1000) : "");
      if (s.length() >= min && s.length() <= max && (pattern == null || Pattern.compile(pattern).matcher(s).find())) {
        return s;
      }
    }
    throw new IllegalStateException("the generator cannot draw a string for " + schema);
  }

  private String token(int length) {
    String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.append(chars.charAt(random.nextInt(chars.length())));
    }
    return b.toString();
  }

  /** A raw (already encoded) parameter value the description does not allow, or invalid UTF-8 when decoded. */
  private String badParameter(OpenApiDescription.Param p) {
    return switch (random.nextInt(6)) {
      case 0 -> "%FF%FE%C0%80";
      case 1 -> "%00";
      case 2 -> encode("x".repeat(5000));
      case 3 -> encode("../../etc/passwd");
      case 4 -> encode(AWKWARD.get(random.nextInt(AWKWARD.size() - 2)));
      default -> "-1";
    };
  }

  private Object wrongType() {
    return switch (random.nextInt(6)) {
      case 0 -> 12345;
      case 1 -> "a string";
      case 2 -> true;
      case 3 -> new JsonArray().add(1).add("two");
      case 4 -> new JsonObject().put("nested", new JsonObject());
      default -> null;
    };
  }

  private void dropRequired(Object node, JsonObject schema) {
    List<JsonObject> objects = new ArrayList<>();
    List<JsonObject> schemas = new ArrayList<>();
    collect(node, schema, objects, schemas);
    for (int tries = 0; tries < objects.size() * 2 && !objects.isEmpty(); tries++) {
      int i = random.nextInt(objects.size());
      JsonArray req = schemas.get(i).getJsonArray("required", new JsonArray());
      if (!req.isEmpty()) {
        objects.get(i).remove(req.getString(random.nextInt(req.size())));
        return;
      }
    }
  }

  private void collect(Object node, JsonObject schema, List<JsonObject> objects, List<JsonObject> schemas) {
    if (node instanceof JsonObject o) {
      objects.add(o);
      schemas.add(schema);
      JsonObject props = schema.getJsonObject("properties", new JsonObject());
      o.forEach(e -> {
        if (props.containsKey(e.getKey())) {
          collect(e.getValue(), props.getJsonObject(e.getKey()), objects, schemas);
        }
      });
    } else if (node instanceof JsonArray a && schema.containsKey("items")) {
      a.forEach(v -> collect(v, schema.getJsonObject("items"), objects, schemas));
    }
  }

  /** Replaces one value anywhere in the tree (an object's property or an array's item). */
  private void replaceSomewhere(Object root, Object replacement) {
    List<Object[]> slots = new ArrayList<>();
    slots(root, slots);
    if (slots.isEmpty()) {
      return;
    }
    Object[] slot = slots.get(random.nextInt(slots.size()));
    if (slot[0] instanceof JsonObject o) {
      o.put((String) slot[1], replacement);
    } else {
      ((JsonArray) slot[0]).set((Integer) slot[1], replacement);
    }
  }

  private void slots(Object node, List<Object[]> out) {
    if (node instanceof JsonObject o) {
      o.fieldNames().forEach(f -> {
        out.add(new Object[] {o, f});
        slots(o.getValue(f), out);
      });
    } else if (node instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        out.add(new Object[] {a, i});
        slots(a.getValue(i), out);
      }
    }
  }

  /** The JSON with the string MARK replaced by bytes that are not UTF-8. */
  private byte[] invalidUtf8(String json) {
    byte[][] bad = {{(byte) 0xff}, {(byte) 0xc3, 0x28}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xc0, (byte) 0x80},
        {(byte) 0xe2, (byte) 0x82}};
    String[] parts = json.split("MARK", -1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < parts.length; i++) {
      out.writeBytes(parts[i].getBytes(StandardCharsets.UTF_8));
      if (i < parts.length - 1) {
        out.writeBytes(bad[random.nextInt(bad.length)]);
      }
    }
    return out.toByteArray();
  }

  private static String json(Object v) {
    return v instanceof JsonObject o ? o.encode() : v instanceof JsonArray a ? a.encode() : String.valueOf(v);
  }

  private static String text(Object v) {
    return v instanceof String s ? s : json(v);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
