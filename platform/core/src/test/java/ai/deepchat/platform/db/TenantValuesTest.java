package ai.deepchat.platform.db;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** What the per-node memory of per-tenant values keeps, and what it must not (the database side: TenantSettingsCacheTest). */
class TenantValuesTest {

  private final UUID tenant = UUID.randomUUID();
  private final UUID other = UUID.randomUUID();

  @Test
  void servesOnlyWhileListening() {
    TenantValues<String> v = new TenantValues<>("c", "test", 10);
    v.offer(tenant, "a", v.begin());
    assertThat(v.get(tenant)).as("never listened").isNull();
    v.reset(true);
    v.offer(tenant, "a", v.begin());
    assertThat(v.get(tenant)).isEqualTo("a");
    v.reset(false);
    assertThat(v.get(tenant)).as("listening lost").isNull();
    v.reset(true);
    assertThat(v.get(tenant)).as("a new LISTEN starts from nothing").isNull();
  }

  @Test
  void aReadThatRacedAChangeIsNotKept() {
    TenantValues<String> v = new TenantValues<>("c", "test", 10);
    v.reset(true);
    long startedAt = v.begin();
    v.invalidate(other.toString()); // any change, announced while the read was in flight
    v.offer(tenant, "a", startedAt);
    assertThat(v.get(tenant)).isNull();
  }

  @Test
  void theNotificationDropsTheTenantItNamesAndAStarDropsAll() {
    TenantValues<String> v = new TenantValues<>("c", "test", 10);
    v.reset(true);
    v.offer(tenant, "a", v.begin());
    v.offer(other, "b", v.begin());
    v.invalidate(other.toString());
    assertThat(v.get(tenant)).isEqualTo("a");
    assertThat(v.get(other)).isNull();
    v.offer(other, "b", v.begin());
    v.invalidate("*");
    assertThat(v.get(tenant)).isNull();
    assertThat(v.get(other)).isNull();
  }
}
