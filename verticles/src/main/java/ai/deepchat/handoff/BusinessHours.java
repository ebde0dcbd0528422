package ai.deepchat.handoff;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A tenant's weekly opening hours in its own time zone: per weekday, intervals of local time
 * ({@code {"mon": [["09:00", "18:00"]], ...}}; a day not named is closed). Null hours: always open.
 * Local times follow the zone's rules, daylight saving included (a time skipped by a clock change opens
 * at the next valid instant).
 */
record BusinessHours(ZoneId zone, Map<DayOfWeek, List<LocalTime[]>> week) {

  private static final String[] DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

  public static final BusinessHours ALWAYS = new BusinessHours(ZoneId.of("UTC"), null);

  /** Parses and validates the stored or submitted form; a {@link HandoffException} (400) names the problem. */
  public static BusinessHours parse(String zoneId, JsonObject hours) {
    ZoneId zone;
    try {
      zone = ZoneId.of(zoneId == null ? "UTC" : zoneId);
    } catch (RuntimeException e) {
      throw HandoffException.badRequest("invalid_time_zone", "'time_zone' must be an IANA time zone such as Asia/Shanghai.");
    }
    if (hours == null) {
      return new BusinessHours(zone, null);
    }
    Map<DayOfWeek, List<LocalTime[]>> week = new EnumMap<>(DayOfWeek.class);
    for (String key : hours.fieldNames()) {
      int day = List.of(DAYS).indexOf(key.toLowerCase(Locale.ROOT));
      if (day < 0 || !(hours.getValue(key) instanceof JsonArray intervals) || intervals.size() > 8) {
        throw HandoffException.badRequest("invalid_business_hours",
            "'business_hours' maps mon..sun to at most 8 [\"HH:MM\", \"HH:MM\"] intervals.");
      }
      List<LocalTime[]> list = new ArrayList<>();
      for (Object o : intervals) {
        if (!(o instanceof JsonArray pair) || pair.size() != 2) {
          throw HandoffException.badRequest("invalid_business_hours", "Each interval is [\"HH:MM\", \"HH:MM\"].");
        }
        LocalTime from = time(pair.getValue(0));
        LocalTime to = time(pair.getValue(1));
        // "24:00" is written as "00:00" at the end: open until midnight
        if (!to.equals(LocalTime.MIDNIGHT) && !from.isBefore(to)) {
          throw HandoffException.badRequest("invalid_business_hours", "An interval must end after it starts.");
        }
        list.add(new LocalTime[] {from, to});
      }
      week.put(DayOfWeek.of(day + 1), List.copyOf(list));
    }
    return new BusinessHours(zone, week);
  }

  private static LocalTime time(Object value) {
    try {
      if (value instanceof String s && s.matches("\\d{2}:\\d{2}")) {
        return LocalTime.parse(s);
      }
    } catch (DateTimeParseException ignored) {
      // answered below
    }
    throw HandoffException.badRequest("invalid_business_hours", "Times are \"HH:MM\" (24-hour clock).");
  }

  public boolean alwaysOpen() {
    return week == null;
  }

  public boolean openAt(Instant now) {
    if (week == null) {
      return true;
    }
    ZonedDateTime local = now.atZone(zone);
    LocalTime t = local.toLocalTime();
    for (LocalTime[] i : week.getOrDefault(local.getDayOfWeek(), List.of())) {
      if (!t.isBefore(i[0]) && (i[1].equals(LocalTime.MIDNIGHT) || t.isBefore(i[1]))) {
        return true;
      }
    }
    return false;
  }

  /** The next instant the hours open after {@code now} (null: never, no day has hours). */
  public Instant nextOpening(Instant now) {
    if (week == null) {
      return now;
    }
    ZonedDateTime local = now.atZone(zone);
    Instant best = null;
    for (int d = 0; d <= 7; d++) {
      var date = local.toLocalDate().plusDays(d);
      for (LocalTime[] i : week.getOrDefault(date.getDayOfWeek(), List.of())) {
        Instant start = date.atTime(i[0]).atZone(zone).toInstant();
        if (start.isAfter(now) && (best == null || start.isBefore(best))) {
          best = start;
        }
      }
      if (best != null) {
        return best;
      }
    }
    return null;
  }

  /** The stored and shown form. */
  public JsonObject toJson() {
    if (week == null) {
      return null;
    }
    JsonObject o = new JsonObject();
    week.forEach((day, intervals) -> {
      JsonArray list = new JsonArray();
      intervals.forEach(i -> list.add(new JsonArray().add(i[0].toString()).add(i[1].toString())));
      o.put(DAYS[day.getValue() - 1], list);
    });
    return o;
  }
}
