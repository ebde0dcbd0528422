package ai.deepchat.handoff;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Opening hours in the tenant's own time zone, daylight saving included, and their validation. */
class BusinessHoursTest {

  private static JsonObject weekdays(String from, String to) {
    JsonObject o = new JsonObject();
    for (String d : new String[] {"mon", "tue", "wed", "thu", "fri"}) {
      o.put(d, new JsonArray().add(new JsonArray().add(from).add(to)));
    }
    return o;
  }

  @Test
  void openInTheTenantsZone() {
    BusinessHours shanghai = BusinessHours.parse("Asia/Shanghai", weekdays("09:00", "18:00"));
    // Monday 2026-12-07 01:30 UTC is 09:30 in Shanghai: open; 10:30 UTC is 18:30 there: closed
    assertThat(shanghai.openAt(Instant.parse("2026-12-07T01:30:00Z"))).isTrue();
    assertThat(shanghai.openAt(Instant.parse("2026-12-07T10:30:00Z"))).isFalse();
    // Saturday: closed, and the next opening is Monday 09:00 Shanghai time
    assertThat(shanghai.openAt(Instant.parse("2026-12-05T03:00:00Z"))).isFalse();
    assertThat(shanghai.nextOpening(Instant.parse("2026-12-05T03:00:00Z"))).isEqualTo(Instant.parse("2026-12-07T01:00:00Z"));
  }

  @Test
  void followsDaylightSaving() {
    BusinessHours berlin = BusinessHours.parse("Europe/Berlin", weekdays("09:00", "17:00"));
    // 08:30 UTC is 09:30 in winter (UTC+1) but 10:30 in summer (UTC+2); 07:30 UTC is open only in summer
    assertThat(berlin.openAt(Instant.parse("2026-01-12T07:30:00Z"))).isFalse();
    assertThat(berlin.openAt(Instant.parse("2026-07-13T07:30:00Z"))).isTrue();
  }

  @Test
  void untilMidnightAndAlwaysOpen() {
    BusinessHours late = BusinessHours.parse("UTC", new JsonObject().put("sun",
        new JsonArray().add(new JsonArray().add("20:00").add("00:00"))));
    assertThat(late.openAt(Instant.parse("2026-12-06T23:59:00Z"))).isTrue();
    assertThat(BusinessHours.parse("UTC", null).openAt(Instant.EPOCH)).isTrue();
    assertThat(BusinessHours.parse("UTC", new JsonObject()).nextOpening(Instant.EPOCH)).isNull();
  }

  @Test
  void refusesWhatItCannotRead() {
    assertThatThrownBy(() -> BusinessHours.parse("Mars/Olympus", null)).isInstanceOf(HandoffException.class)
        .hasMessageContaining("time zone");
    assertThatThrownBy(() -> BusinessHours.parse("UTC", weekdays("18:00", "09:00"))).isInstanceOf(HandoffException.class);
    assertThatThrownBy(() -> BusinessHours.parse("UTC", new JsonObject().put("someday", new JsonArray())))
        .isInstanceOf(HandoffException.class);
    assertThatThrownBy(() -> BusinessHours.parse("UTC", weekdays("9am", "5pm"))).isInstanceOf(HandoffException.class);
  }
}
