package ai.deepchat.platform.security;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** AES-256-GCM secrets at rest: round trip, associated data, tampering, keys and their rotation, the key file. */
class SecretBoxTest {

  private static final byte[] KEY_A = key(1);
  private static final byte[] KEY_B = key(2);
  private static final String AAD = "tenant-1/channel-1/appSecret";

  private static byte[] key(int seed) {
    byte[] k = new byte[32];
    java.util.Arrays.fill(k, (byte) seed);
    return k;
  }

  @Test
  void sealsWithAFreshNonceAndOpensOnlyForItsOwnPlace() {
    SecretBox box = SecretBox.of(KEY_A, List.of());
    String one = box.seal("app-secret-值", AAD);
    String two = box.seal("app-secret-值", AAD);
    assertThat(one).startsWith(box.currentPrefix()).doesNotContain("app-secret").isNotEqualTo(two);
    assertThat(SecretBox.isSealed(one)).isTrue();
    assertThat(SecretBox.isSealed("app-secret")).isFalse();
    assertThat(box.open(one, AAD)).isEqualTo("app-secret-值");
    assertThat(box.open(two, AAD)).isEqualTo("app-secret-值");
    assertThat(box.open(box.seal("", AAD), AAD)).isEmpty();
    // copied to another field, row or tenant: refused, saying why
    assertThatThrownBy(() -> box.open(one, "tenant-2/channel-1/appSecret")).isInstanceOf(SecretBox.Unreadable.class)
        .hasMessageContaining("integrity check").hasMessageContaining("copied from another row or tenant");
  }

  @Test
  void aChangedValueIsRefusedNotGarbled() {
    SecretBox box = SecretBox.of(KEY_A, List.of());
    String sealed = box.seal("token-42", AAD);
    int last = sealed.length() - 1;
    String flipped = sealed.substring(0, last) + (sealed.charAt(last) == 'A' ? 'B' : 'A');
    assertThatThrownBy(() -> box.open(flipped, AAD)).isInstanceOf(SecretBox.Unreadable.class)
        .hasMessageContaining("integrity check");
    assertThatThrownBy(() -> box.open("v1:zz", AAD)).isInstanceOf(SecretBox.Unreadable.class)
        .hasMessageContaining("not a sealed value");
  }

  @Test
  void anotherNodesKeyIsNamedAndOldKeysKeepOpening() {
    SecretBox a = SecretBox.of(KEY_A, List.of());
    SecretBox b = SecretBox.of(KEY_B, List.of());
    String sealedByA = a.seal("secret", AAD);
    assertThatThrownBy(() -> b.open(sealedByA, AAD)).isInstanceOf(SecretBox.Unreadable.class)
        .hasMessageContaining("sealed with key " + a.keyIds().get(0))
        .hasMessageContaining("does not have").hasMessageContaining("SECRETS_KEY");
    // rotation: B seals now, A is kept as an old key and still opens what it sealed
    SecretBox rotated = SecretBox.of(KEY_B, List.of(KEY_A));
    assertThat(rotated.open(sealedByA, AAD)).isEqualTo("secret");
    assertThat(rotated.seal("secret", AAD)).startsWith(b.currentPrefix());
    assertThat(rotated.keyIds()).containsExactly(b.keyIds().get(0), a.keyIds().get(0));
  }

  @Test
  void withoutSecretsKeyOneKeyFileIsGeneratedOwnerOnlyAndReused(@TempDir Path dir) throws Exception {
    PlatformConfig config = ConfigLoader.load(Map.of("DATA_DIR", dir.toString()), new String[0]);
    SecretBox first = SecretBox.resolve(config);
    Path file = dir.resolve("secrets").resolve(SecretBox.FILE);
    assertThat(Files.readString(file)).matches("[0-9a-f]{64}");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    String sealed = first.seal("x", AAD);
    assertThat(SecretBox.resolve(config).open(sealed, AAD)).isEqualTo("x");
    // the file's hex is a valid SECRETS_KEY: another node given it opens the same values
    PlatformConfig other = ConfigLoader.load(Map.of("DATA_DIR", dir.resolve("other").toString(),
        "SECRETS_KEY", Files.readString(file)), new String[0]);
    assertThat(SecretBox.resolve(other).open(sealed, AAD)).isEqualTo("x");
    assertThat(Files.exists(dir.resolve("other").resolve("secrets"))).isFalse();
  }

  @Test
  void keysAreConfiguredAsBase64AndBadOnesAreRefusedAtStart() {
    String a = Base64.getEncoder().encodeToString(KEY_A);
    String b = Base64.getEncoder().encodeToString(KEY_B);
    PlatformConfig.Secrets secrets = ConfigLoader.load(Map.of("SECRETS_KEY", b, "SECRETS_OLD_KEYS", " " + a + " ,"),
        new String[0]).secrets();
    assertThat(secrets).isEqualTo(new PlatformConfig.Secrets(java.util.Optional.of(b), List.of(a)));
    for (String bad : List.of("c2hvcnQ=", "not base64 at all!", "00ff")) {
      assertThatThrownBy(() -> ConfigLoader.load(Map.of("SECRETS_KEY", bad), new String[0]))
          .isInstanceOf(ConfigException.class).hasMessageStartingWith("SECRETS_KEY: must be a 32-byte key")
          .hasMessageNotContaining(bad);
    }
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("SECRETS_OLD_KEYS", a + ",short"), new String[0]))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("SECRETS_OLD_KEYS:");
  }
}
