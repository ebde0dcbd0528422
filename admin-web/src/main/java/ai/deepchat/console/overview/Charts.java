package ai.deepchat.console.overview;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Geometry of the small inline SVG charts (computed here, drawn by the template as plain rect/text
 * elements: no script, no external assets, nothing that the CSP would have to allow).
 */
final class Charts {

  static final int WIDTH = 600;
  static final int HEIGHT = 120;

  private Charts() {
  }

  /** Vertical bars for a series of (label, value), scaled to the largest value. */
  static List<Map<String, Object>> columns(List<String> labels, List<Long> values) {
    long max = Math.max(1, values.stream().mapToLong(Long::longValue).max().orElse(1));
    int n = Math.max(1, values.size());
    double slot = (double) WIDTH / n;
    List<Map<String, Object>> bars = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      long v = values.get(i);
      double h = v == 0 ? 0 : Math.max(2, (HEIGHT - 4) * (double) v / max);
      Map<String, Object> bar = new LinkedHashMap<>();
      bar.put("x", round(i * slot + slot * 0.15));
      bar.put("y", round(HEIGHT - h));
      bar.put("w", round(slot * 0.7));
      bar.put("h", round(h));
      bar.put("label", labels.get(i));
      bar.put("value", v);
      bars.add(bar);
    }
    return bars;
  }

  /** Horizontal bars (share of the total) for a breakdown such as answers per intent. */
  static List<Map<String, Object>> shares(Map<String, Long> counts) {
    long total = Math.max(1, counts.values().stream().mapToLong(Long::longValue).sum());
    List<Map<String, Object>> rows = new ArrayList<>();
    int i = 0;
    for (var e : counts.entrySet()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("label", e.getKey());
      row.put("value", e.getValue());
      row.put("percent", Math.round(100.0 * e.getValue() / total));
      row.put("w", round(Math.max(1, 300.0 * e.getValue() / total)));
      row.put("y", i * 28);
      rows.add(row);
      i++;
    }
    return rows;
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
