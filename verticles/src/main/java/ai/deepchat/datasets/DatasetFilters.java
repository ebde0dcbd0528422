package ai.deepchat.datasets;

import ai.deepchat.chat.api.HttpProblem;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Which stored answers a dataset draws on: answers given in [from, to) (either end open), of one intent,
 * with positive feedback only, from conversations whose visitor rating (the latest, 1-5) is at least
 * {@code minRating} (both SFT examples only; preference pairs take their choice from feedback either way), from
 * the {@code sources} named ({@link #SOURCES}; null: all). FAQ examples are staff-written answers: the window
 * applies to the answer's last edit, the intent filter sees them as intent "faq", and the two filters that
 * judge what visitors saw (positive_only, min_rating) do not apply to them.
 */
public record DatasetFilters(OffsetDateTime from, OffsetDateTime to, String intent, boolean positiveOnly, Integer minRating,
                             List<String> sources) {

  /**
   * Where examples come from: the bot's stored answers, staff agents' handoff replies, shadow-rollout pairs,
   * and FAQ answers (each question variant with the entry's answer as staff last wrote it).
   */
  public static final List<String> SOURCES = List.of("answers", "agents", "shadow", "faq");
  private static final Set<String> FIELDS = Set.of("from", "to", "intent", "positive_only", "min_rating", "sources");

  public DatasetFilters(OffsetDateTime from, OffsetDateTime to, String intent, boolean positiveOnly, Integer minRating) {
    this(from, to, intent, positiveOnly, minRating, null);
  }

  /** Whether the dataset draws on {@code source}. */
  boolean uses(String source) {
    return sources == null || sources.contains(source);
  }

  /** The filters of a request body's "filters" object (absent: none). */
  public static DatasetFilters parse(Object raw) {
    if (raw == null) {
      return new DatasetFilters(null, null, null, false, null);
    }
    if (!(raw instanceof JsonObject f)) {
      throw invalid("filters must be an object");
    }
    for (String key : f.fieldNames()) {
      if (!FIELDS.contains(key)) {
        throw invalid("unknown filter '" + key + "'; known: from, to, intent, positive_only, min_rating, sources");
      }
    }
    OffsetDateTime from = time(f, "from");
    OffsetDateTime to = time(f, "to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw invalid("filters.from must be before filters.to");
    }
    Object intent = f.getValue("intent");
    if (intent != null && (!(intent instanceof String s) || s.isBlank() || s.length() > 100)) {
      throw invalid("filters.intent must be an intent name of 1-100 characters");
    }
    Object positive = f.getValue("positive_only");
    if (positive != null && !(positive instanceof Boolean)) {
      throw invalid("filters.positive_only must be true or false");
    }
    Object minRating = f.getValue("min_rating");
    if (minRating != null && (!(minRating instanceof Integer n) || n < 1 || n > 5)) {
      throw invalid("filters.min_rating must be a whole number from 1 to 5");
    }
    return new DatasetFilters(from, to, (String) intent, Boolean.TRUE.equals(positive), (Integer) minRating,
        sources(f.getValue("sources")));
  }

  static DatasetFilters of(Row row) {
    String[] sources = row.getArrayOfStrings("sources");
    return new DatasetFilters(row.getOffsetDateTime("from_time"), row.getOffsetDateTime("to_time"),
        row.getString("intent"), row.getBoolean("positive_only"), row.getInteger("min_rating"),
        sources == null ? null : Arrays.asList(sources));
  }

  JsonObject toJson() {
    return new JsonObject().put("from", from == null ? null : from.toString()).put("to", to == null ? null : to.toString())
        .put("intent", intent).put("positive_only", positiveOnly).put("min_rating", minRating)
        .put("sources", sources == null ? null : new JsonArray(sources));
  }

  /** The sources as stored: null (all), or the ones named, in {@link #SOURCES}' order. */
  String[] sourcesArray() {
    return sources == null ? null : sources.toArray(String[]::new);
  }

  private static List<String> sources(Object raw) {
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof JsonArray a) || a.isEmpty() || !a.stream().allMatch(SOURCES::contains)) {
      throw invalid("filters.sources must be a non-empty array of " + String.join(", ", SOURCES));
    }
    List<String> out = new ArrayList<>();
    SOURCES.stream().filter(a::contains).forEach(out::add);
    return List.copyOf(out);
  }

  private static OffsetDateTime time(JsonObject f, String key) {
    Object v = f.getValue(key);
    if (v == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse((String) v);
    } catch (ClassCastException | DateTimeParseException e) {
      throw invalid("filters." + key + " must be an ISO-8601 time with an offset, e.g. 2026-12-01T00:00:00Z");
    }
  }

  static HttpProblem invalid(String message) {
    return HttpProblem.badRequest("invalid_value", message);
  }
}
