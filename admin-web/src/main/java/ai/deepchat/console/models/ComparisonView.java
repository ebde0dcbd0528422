package ai.deepchat.console.models;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns a rollout comparison (the admin API's JSON, docs/api.md) into what the Models page shows: one
 * column per arm, one row per measure with each candidate's difference from the stable version marked
 * better or worse, the guard's bounds beside this node's window as bars, the shadow similarity
 * histogram and answer pairs, and the rollout's events. Numbers are formatted here, so the template
 * only places them.
 */
final class ComparisonView {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
      .withZone(ZoneOffset.UTC);
  private static final int BAR = 300;

  /** One measure: its message key, how to read it from an arm, its kind, and which way is better. */
  private record Measure(String key, Function<JsonObject, Object> value, Kind kind, int better) {
  }

  /** SCORE: a mean visitor rating on the 1-5 scale. */
  private enum Kind { COUNT, RATE, MILLIS, SCORE }

  private static final List<Measure> MEASURES = List.of(
      new Measure("models.cmp.requests", a -> a.getValue("requests"), Kind.COUNT, 0),
      new Measure("models.cmp.errorRate", a -> a.getValue("errorRate"), Kind.RATE, -1),
      new Measure("models.cmp.ttftP50", a -> a.getJsonObject("ttftMs").getValue("p50"), Kind.MILLIS, -1),
      new Measure("models.cmp.ttftP95", a -> a.getJsonObject("ttftMs").getValue("p95"), Kind.MILLIS, -1),
      new Measure("models.cmp.totalP50", a -> a.getJsonObject("totalMs").getValue("p50"), Kind.MILLIS, -1),
      new Measure("models.cmp.totalP95", a -> a.getJsonObject("totalMs").getValue("p95"), Kind.MILLIS, -1),
      new Measure("models.cmp.answers", a -> a.getValue("answers"), Kind.COUNT, 0),
      new Measure("models.cmp.feedbackRate", a -> a.getValue("feedbackRate"), Kind.RATE, 0),
      new Measure("models.cmp.positiveRate", a -> a.getValue("positiveRate"), Kind.RATE, 1),
      new Measure("models.cmp.satisfaction", a -> a.getValue("satisfaction"), Kind.SCORE, 1),
      new Measure("models.cmp.ratedConversations", a -> a.getValue("ratedConversations"), Kind.COUNT, 0));

  private ComparisonView() {
  }

  static Map<String, Object> of(JsonObject c) {
    Map<String, Object> view = new LinkedHashMap<>();
    JsonObject rollout = c.getJsonObject("rollout");
    JsonArray arms = c.getJsonArray("arms");
    view.put("id", rollout.getString("id"));
    view.put("mode", rollout.getString("mode"));
    view.put("state", rollout.getString("state"));
    view.put("reason", rollout.getString("reason"));
    JsonObject window = c.getJsonObject("window");
    view.put("from", TIME.format(Instant.parse(window.getString("from"))));
    view.put("to", TIME.format(Instant.parse(window.getString("to"))));
    view.put("duration", duration(window.getLong("seconds")));

    List<Map<String, Object>> columns = new ArrayList<>();
    for (int i = 0; i < arms.size(); i++) {
      JsonObject a = arms.getJsonObject(i);
      columns.add(Map.of("name", a.getString("name"), "role", a.getString("role"),
          "percentage", plain(a.getDouble("percentage")) + "%", "live", a.getBoolean("live")));
    }
    view.put("arms", columns);

    JsonObject stable = arms.getJsonObject(0);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Measure m : MEASURES) {
      List<Map<String, Object>> cells = new ArrayList<>();
      Number base = (Number) m.value().apply(stable);
      for (int i = 0; i < arms.size(); i++) {
        Number v = (Number) m.value().apply(arms.getJsonObject(i));
        Map<String, Object> cell = new LinkedHashMap<>();
        cell.put("text", format(v, m.kind()));
        if (i > 0 && v != null && base != null && m.kind() != Kind.COUNT) {
          double d = v.doubleValue() - base.doubleValue();
          cell.put("delta", delta(d, m.kind()));
          cell.put("tone", m.better() == 0 || Math.abs(d) < 1e-9 ? "same"
              : Math.signum(d) == m.better() ? "better" : "worse");
        }
        cells.add(cell);
      }
      rows.add(Map.of("key", m.key(), "cells", cells));
    }
    view.put("rows", rows);
    view.put("guard", guard(c.getJsonObject("guards")));
    JsonObject shadow = c.getJsonObject("shadow");
    if (shadow != null) {
      view.put("shadow", shadow(shadow));
    }
    List<Map<String, Object>> events = new ArrayList<>();
    c.getJsonArray("events").forEach(o -> {
      JsonObject e = (JsonObject) o;
      JsonObject details = e.getJsonObject("details") == null ? new JsonObject() : e.getJsonObject("details").copy();
      details.remove("guards");
      events.add(Map.of("at", TIME.format(Instant.parse(e.getString("at"))), "action", e.getString("action"),
          "actor", e.getString("actor"), "details", details.encode(),
          "automatic", e.getString("actor").startsWith("system:")));
    });
    view.put("events", events);
    return view;
  }

  private static Map<String, Object> guard(JsonObject g) {
    JsonObject w = g.getJsonObject("nodeWindow");
    double maxErrors = g.getDouble("maxErrorRate");
    long maxTtft = g.getLong("maxP95TtftMs");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("enabled", g.getBoolean("enabled"));
    out.put("maxErrorRate", format(maxErrors, Kind.RATE));
    out.put("maxP95Ttft", format(maxTtft, Kind.MILLIS));
    out.put("windowSeconds", g.getInteger("windowSeconds"));
    out.put("minSamples", g.getInteger("minSamples"));
    out.put("requests", w.getInteger("requests"));
    Number p95 = (Number) w.getValue("p95TtftMs");
    out.put("bars", List.of(
        bar("models.guard.errorRate", w.getDouble("errorRate"), maxErrors, format(w.getDouble("errorRate"), Kind.RATE)),
        bar("models.guard.p95Ttft", p95 == null ? 0 : p95.doubleValue(), maxTtft, format(p95, Kind.MILLIS))));
    return out;
  }

  private static Map<String, Object> bar(String key, double value, double bound, String text) {
    double share = bound <= 0 ? 1 : Math.min(1, value / bound);
    return Map.of("key", key, "text", text, "w", Math.round(share * BAR), "tone",
        share >= 1 ? "worse" : share >= 0.8 ? "near" : "better");
  }

  private static Map<String, Object> shadow(JsonObject s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("pairs", s.getLong("pairs"));
    out.put("failed", s.getLong("failed"));
    out.put("agreement", format((Number) s.getValue("agreementRate"), Kind.RATE));
    out.put("mean", similarity((Number) s.getValue("meanSimilarity")));
    out.put("median", similarity((Number) s.getValue("medianSimilarity")));
    out.put("threshold", similarity((Number) s.getValue("threshold")));
    JsonArray histogram = s.getJsonArray("histogram");
    long most = 1;
    for (int i = 0; i < histogram.size(); i++) {
      most = Math.max(most, histogram.getJsonObject(i).getLong("count"));
    }
    List<Map<String, Object>> bins = new ArrayList<>();
    for (int i = 0; i < histogram.size(); i++) {
      JsonObject b = histogram.getJsonObject(i);
      long h = Math.round(100.0 * b.getLong("count") / most);
      bins.add(Map.of("x", i * 46, "y", 110 - h, "h", h, "count", b.getLong("count"),
          "label", similarity(b.getDouble("from")) + "–" + similarity(b.getDouble("to")),
          "agree", b.getDouble("from") >= s.getDouble("threshold") - 1e-9));
    }
    out.put("bins", bins);
    List<Map<String, Object>> examples = new ArrayList<>();
    s.getJsonArray("examples").forEach(o -> {
      JsonObject e = (JsonObject) o;
      Map<String, Object> ex = new LinkedHashMap<>();
      ex.put("prompt", e.getString("prompt"));
      ex.put("stable", e.getString("stableAnswer"));
      ex.put("candidate", e.getString("candidateAnswer") != null ? e.getString("candidateAnswer")
          : e.getString("candidateError"));
      ex.put("failed", e.getString("candidateAnswer") == null);
      ex.put("similarity", similarity((Number) e.getValue("similarity")));
      ex.put("agreed", Boolean.TRUE.equals(e.getBoolean("agreed")));
      examples.add(ex);
    });
    out.put("examples", examples);
    return out;
  }

  private static String format(Number v, Kind kind) {
    if (v == null) {
      return "—";
    }
    return switch (kind) {
      case COUNT -> String.format(Locale.ROOT, "%,d", v.longValue());
      case RATE -> String.format(Locale.ROOT, "%.1f%%", v.doubleValue() * 100);
      case MILLIS -> v.longValue() >= 10_000 ? String.format(Locale.ROOT, "%.1f s", v.doubleValue() / 1000)
          : v.longValue() + " ms";
      case SCORE -> String.format(Locale.ROOT, "%.2f / 5", v.doubleValue());
    };
  }

  private static String delta(double d, Kind kind) {
    String sign = d > 0 ? "+" : d < 0 ? "−" : "±";
    double a = Math.abs(d);
    return kind == Kind.RATE ? String.format(Locale.ROOT, "%s%.1f pts", sign, a * 100)
        : kind == Kind.SCORE ? String.format(Locale.ROOT, "%s%.2f", sign, a)
        : String.format(Locale.ROOT, "%s%d ms", sign, Math.round(a));
  }

  private static String similarity(Number v) {
    return v == null ? "—" : String.format(Locale.ROOT, "%.2f", v.doubleValue());
  }

  private static String plain(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }

  private static String duration(long seconds) {
    if (seconds < 120) {
      return seconds + " s";
    }
    if (seconds < 7200) {
      return seconds / 60 + " min";
    }
    return seconds < 172_800 ? seconds / 3600 + " h" : seconds / 86_400 + " d";
  }
}
