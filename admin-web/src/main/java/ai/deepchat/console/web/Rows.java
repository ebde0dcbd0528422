package ai.deepchat.console.web;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Query rows as plain maps for templates (ids and times as display strings). */
public final class Rows {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");

  private Rows() {
  }

  public static List<Map<String, Object>> maps(RowSet<Row> rows) {
    List<Map<String, Object>> out = new ArrayList<>(rows.size());
    rows.forEach(r -> out.add(map(r)));
    return out;
  }

  public static Map<String, Object> map(Row r) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < r.size(); i++) {
      m.put(r.getColumnName(i), value(r.getValue(i)));
    }
    return m;
  }

  static Object value(Object v) {
    if (v instanceof UUID u) {
      return u.toString();
    }
    if (v instanceof OffsetDateTime t) {
      return TIME.format(t.withOffsetSameInstant(ZoneOffset.UTC)) + " UTC";
    }
    if (v instanceof LocalDateTime t) {
      return TIME.format(t);
    }
    if (v instanceof JsonObject j) {
      return j.getMap();
    }
    if (v instanceof JsonArray a) {
      return a.getList();
    }
    if (v instanceof String[] arr) {
      return List.of(arr);
    }
    return v;
  }
}
