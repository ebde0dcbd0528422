package ai.deepchat.platform.security;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class CredentialsTest {

  @Test
  void apiKeysNameTheirTenantAndAreStoredOnlyAsHashes() {
    UUID tenant = UUID.randomUUID();
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    assertThat(key.hash()).doesNotContain(key.plaintext()).hasSize(64);
    var presented = TenantKeys.parseApiKey(key.plaintext()).orElseThrow();
    assertThat(presented.tenantId()).isEqualTo(tenant);
    assertThat(presented.hash()).isEqualTo(key.hash());
    assertThat(TenantKeys.parseApiKey(key.plaintext() + "x")).isEmpty();
    assertThat(TenantKeys.parseApiKey("sk-" + key.plaintext())).isEmpty();
    assertThat(TenantKeys.newApiKey(tenant).plaintext()).isNotEqualTo(key.plaintext());
  }

  @Test
  void widgetKeysNameTheirTenant() {
    UUID tenant = UUID.randomUUID();
    assertThat(TenantKeys.widgetKeyTenant(TenantKeys.newWidgetKey(tenant))).contains(tenant);
    assertThat(TenantKeys.widgetKeyTenant("pk_nothex_abc")).isEmpty();
  }

  @Test
  void passwordHashesVerifyOnlyTheRightPassword() {
    String hash = PasswordHasher.hash("correct horse");
    assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
    assertThat(PasswordHasher.verify("correct horse", hash)).isTrue();
    assertThat(PasswordHasher.verify("correct horsE", hash)).isFalse();
    assertThat(PasswordHasher.verify("correct horse", "$argon2id$garbage")).isFalse();
    assertThat(PasswordHasher.hash("correct horse")).isNotEqualTo(hash);
  }
}
