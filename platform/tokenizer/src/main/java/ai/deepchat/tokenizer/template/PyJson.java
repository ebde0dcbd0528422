package ai.deepchat.tokenizer.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The {@code tojson} filter as HF defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}. Jinjava's built-in
 * writes compact JSON ({@code {"a":1}}) where Python writes {@code {"a": 1}}; tool schemas rendered
 * into prompts must match what the model was trained on, byte for byte.
 */
final class PyJson implements Filter {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Override
  public String getName() {
    return "tojson";
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return dumps(var, null, false);
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args,
      Map<String, Object> kwargs) {
    Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
    boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
    return dumps(var, indent instanceof Number n ? n.intValue() : null, sortKeys);
  }

  static String dumps(Object value, Integer indent, boolean sortKeys) {
    StringBuilder out = new StringBuilder();
    write(out, value, indent, sortKeys, 0);
    return out.toString();
  }

  private static void write(StringBuilder out, Object v, Integer indent, boolean sort, int depth) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (v instanceof Double || v instanceof Float) {
      out.append(pyFloat(((Number) v).doubleValue()));
    } else if (v instanceof Number n) {
      out.append(n);
    } else if (v instanceof CharSequence s) {
      string(out, s.toString());
    } else if (v instanceof Map<?, ?> map) {
      List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
      if (sort) {
        entries.sort((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
      }
      out.append('{');
      for (int i = 0; i < entries.size(); i++) {
        separator(out, i, indent, depth + 1);
        string(out, String.valueOf(entries.get(i).getKey()));
        out.append(": ");
        write(out, entries.get(i).getValue(), indent, sort, depth + 1);
      }
      close(out, entries.isEmpty(), indent, depth, '}');
    } else if (v instanceof Iterable<?> items) {
      out.append('[');
      int i = 0;
      for (Iterator<?> it = items.iterator(); it.hasNext(); i++) {
        separator(out, i, indent, depth + 1);
        write(out, it.next(), indent, sort, depth + 1);
      }
      close(out, i == 0, indent, depth, ']');
    } else if (v instanceof Object[] array) {
      write(out, List.of(array), indent, sort, depth);
    } else {
      // Records and beans: their JSON shape as Jackson sees it.
      write(out, MAPPER.convertValue(v, Object.class), indent, sort, depth);
    }
  }

  // Python: ", " between items without indent; "," plus newline and indent with it.
  private static void separator(StringBuilder out, int index, Integer indent, int depth) {
    if (index > 0) {
      out.append(indent == null ? ", " : ",");
    }
    if (indent != null) {
      out.append('\n').append(" ".repeat(indent * depth));
    }
  }

  private static void close(StringBuilder out, boolean empty, Integer indent, int depth, char c) {
    if (!empty && indent != null) {
      out.append('\n').append(" ".repeat(indent * depth));
    }
    out.append(c);
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  // Python's float repr: plain between 1e-4 and 1e16 ("1.0", "0.001"), else "1e-05", "1.5e+20".
  static String pyFloat(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0.0" : "0.0";
    }
    BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = bd.unscaledValue().abs().toString();
    int exp = digits.length() - 1 - bd.scale();
    String sign = d < 0 ? "-" : "";
    if (exp >= -4 && exp < 16) {
      String plain = bd.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
  }
}
