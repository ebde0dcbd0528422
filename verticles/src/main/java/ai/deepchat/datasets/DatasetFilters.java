package ai.deepchat.datasets;

import ai.deepchat.chat.api.HttpProblem;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Set;

/**
 * Which stored answers a dataset draws on: answers given in [from, to) (either end open), of one intent,
 * with positive feedback only, from conversations whose visitor rating (the latest, 1-5) is at least
 * {@code minRating} (both SFT examples only; preference pairs take their choice from feedback either way).
 */
public record DatasetFilters(OffsetDateTime from, OffsetDateTime to, String intent, boolean positiveOnly, Integer minRating) {

  private static final Set<String> FIELDS = Set.of("from", "to", "intent", "positive_only", "min_rating");

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
        throw invalid("unknown filter '" + key + "'; known: from, to, intent, positive_only, min_rating");
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
    return new DatasetFilters(from, to, (String) intent, Boolean.TRUE.equals(positive), (Integer) minRating);
  }

  static DatasetFilters of(Row row) {
    return new DatasetFilters(row.getOffsetDateTime("from_time"), row.getOffsetDateTime("to_time"),
        row.getString("intent"), row.getBoolean("positive_only"), row.getInteger("min_rating"));
  }

  JsonObject toJson() {
    return new JsonObject().put("from", from == null ? null : from.toString()).put("to", to == null ? null : to.toString())
        .put("intent", intent).put("positive_only", positiveOnly).put("min_rating", minRating);
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
