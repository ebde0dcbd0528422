package ai.deepchat.platform.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * Finds U+0000 in decoded JSON. JSON may carry it ({@code "\u0000"}), PostgreSQL text cannot: such a
 * value used to reach the database and fail as a 500. Every JSON body that can reach a text column is
 * checked where it is parsed, and refused with 400 naming the field.
 */
public final class NulText {

  private NulText() {
  }

  /** The path of the first key or string value holding U+0000 ({@code messages[0].content}), or null. */
  public static String find(Object json) {
    return find(json, "");
  }

  private static String find(Object value, String path) {
    if (value instanceof String s) {
      return s.indexOf('\0') >= 0 ? (path.isEmpty() ? "body" : path) : null;
    }
    if (value instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        String found = e.getKey().indexOf('\0') >= 0 ? at : find(e.getValue(), at);
        if (found != null) {
          return found;
        }
      }
    } else if (value instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        String found = find(a.getValue(i), path + "[" + i + "]");
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
