package ai.deepchat.platform.db;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** What the per-node memory of absences keeps, and what it must not (the database side: WidgetHandoffLookupTest). */
class KnownAbsentTest {

  private final UUID tenant = UUID.randomUUID();
  private final UUID id = UUID.randomUUID();

  @Test
  void servesOnlyWhileListening() {
    KnownAbsent k = new KnownAbsent("c", "test", 10);
    k.offer(tenant, id, k.begin());
    assertThat(k.absent(tenant, id)).as("never listened").isFalse();
    k.reset(true);
    k.offer(tenant, id, k.begin());
    assertThat(k.absent(tenant, id)).isTrue();
    k.reset(false);
    assertThat(k.absent(tenant, id)).as("listening lost").isFalse();
    k.reset(true);
    assertThat(k.absent(tenant, id)).as("a new LISTEN starts from nothing").isFalse();
  }

  @Test
  void aReadThatRacedAnOpeningIsNotKept() {
    KnownAbsent k = new KnownAbsent("c", "test", 10);
    k.reset(true);
    long startedAt = k.begin();
    k.invalidate(tenant + ":" + UUID.randomUUID()); // any change, announced while the read was in flight
    k.offer(tenant, id, startedAt);
    assertThat(k.absent(tenant, id)).isFalse();
  }

  @Test
  void theNotificationDropsTheOneItNames() {
    KnownAbsent k = new KnownAbsent("c", "test", 10);
    k.reset(true);
    UUID other = UUID.randomUUID();
    k.offer(tenant, id, k.begin());
    k.offer(tenant, other, k.begin());
    k.invalidate(tenant + ":" + id);
    assertThat(k.absent(tenant, id)).isFalse();
    assertThat(k.absent(tenant, other)).isTrue();
    k.offer(tenant, id, k.begin());
    k.invalidate(tenant, id);
    assertThat(k.absent(tenant, id)).as("this node's own opening").isFalse();
  }
}
