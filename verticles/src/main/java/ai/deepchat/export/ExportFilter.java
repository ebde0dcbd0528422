package ai.deepchat.export;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which conversations an export holds: created in [{@code from}, {@code to}), with an answer of
 * {@code intent}, rated one of {@code ratings}, on {@code channel}, handled by the staff member with
 * e-mail {@code agent} (assigned a handoff of it, or wrote in it); a null field does not filter.
 */
public record ExportFilter(Instant from, Instant to, String intent, List<Short> ratings, String channel,
                           String agent) {

  /** The query parameters an export takes, {@code format} included. */
  public static final Set<String> PARAMETERS = Set.of("format", "from", "to", "intent", "rating", "channel",
      "agent");

  private static final Pattern WORD = Pattern.compile("[a-z][a-z0-9_]{0,63}");
  private static final Pattern EMAIL = Pattern.compile("[^\\s@]{1,64}@[^\\s@]{1,190}");

  /** A refused parameter: its name, and a sentence saying what it must be. */
  public static final class Invalid extends RuntimeException {

    private final String param;

    public Invalid(String param, String message) {
      super(message, null, false, false);
      this.param = param;
    }

    public String param() {
      return param;
    }
  }

  /**
   * The filter of an export request's query. {@code from} and {@code to} are ISO-8601 instants or UTC
   * dates ({@code to} as a date includes that whole day); {@code rating} is a comma list of 1-5.
   * Unknown parameters are refused, so a misspelt filter never exports more than was asked for.
   */
  public static ExportFilter parse(MultiMap query) {
    for (String name : query.names()) {
      if (!PARAMETERS.contains(name)) {
        throw new Invalid(name, "Unknown query parameter '" + name + "'.");
      }
      if (query.getAll(name).size() > 1) {
        throw new Invalid(name, "'" + name + "' may be given once.");
      }
    }
    Instant from = time(query.get("from"), "from", false);
    Instant to = time(query.get("to"), "to", true);
    if (from != null && to != null && !from.isBefore(to)) {
      throw new Invalid("to", "'to' must be after 'from'.");
    }
    return new ExportFilter(from, to, word(query.get("intent"), "intent"), ratings(query.get("rating")),
        word(query.get("channel"), "channel"), agent(query.get("agent")));
  }

  /** The filter as audited. */
  public JsonObject describe() {
    JsonObject j = new JsonObject();
    if (from != null) {
      j.put("from", from.toString());
    }
    if (to != null) {
      j.put("to", to.toString());
    }
    if (intent != null) {
      j.put("intent", intent);
    }
    if (ratings != null) {
      j.put("rating", ratings);
    }
    if (channel != null) {
      j.put("channel", channel);
    }
    if (agent != null) {
      j.put("agent", agent);
    }
    return j;
  }

  private static Instant time(String raw, String name, boolean endOfDay) {
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    try {
      if (raw.length() == 10) {
        LocalDate day = LocalDate.parse(raw);
        return (endOfDay ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant();
      }
      return Instant.parse(raw);
    } catch (DateTimeParseException e) {
      throw new Invalid(name, "'" + name + "' must be a date (2026-12-06) or an ISO-8601 instant (2026-12-06T08:00:00Z).");
    }
  }

  private static String word(String raw, String name) {
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    if (!WORD.matcher(raw).matches()) {
      throw new Invalid(name, "'" + name + "' must be a lowercase name such as faq or widget.");
    }
    return raw;
  }

  private static String agent(String raw) {
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    if (!EMAIL.matcher(raw).matches()) {
      throw new Invalid("agent", "'agent' must be a staff member's e-mail address.");
    }
    return raw;
  }

  private static List<Short> ratings(String raw) {
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    List<Short> scores = new ArrayList<>();
    for (String part : raw.split(",", -1)) {
      String s = part.strip();
      if (s.length() != 1 || s.charAt(0) < '1' || s.charAt(0) > '5') {
        throw new Invalid("rating", "'rating' must be scores from 1 to 5, separated by commas (1,2).");
      }
      scores.add((short) (s.charAt(0) - '0'));
    }
    return List.copyOf(scores);
  }
}
