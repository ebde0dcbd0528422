package ai.deepchat.platform.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Credentials that name their tenant, so a request is scoped before any lookup and no query ever
 * searches across tenants: secret API keys {@code dck_<tenant hex>_<secret>} (stored as SHA-256 only)
 * and public widget keys {@code pk_<tenant hex>_<random>}.
 */
public final class TenantKeys {

  private static final Pattern API_KEY = Pattern.compile("dck_([0-9a-f]{32})_([A-Za-z0-9]{32})");
  private static final Pattern WIDGET_KEY = Pattern.compile("pk_([0-9a-f]{32})_([A-Za-z0-9]{16})");
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();
  /** getInstance looks the provider up on every call (every API request hashes its key): one per thread. */
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private TenantKeys() {
  }

  /** A new API key: the plaintext (shown once), a display prefix, and the hash that is stored. */
  public record NewApiKey(String plaintext, String prefix, String hash) {
  }

  /** What a presented key claims: its tenant and the hash to look up under that tenant. */
  public record PresentedKey(UUID tenantId, String hash) {
  }

  public static NewApiKey newApiKey(UUID tenantId) {
    String key = "dck_" + hex(tenantId) + "_" + random(32);
    return new NewApiKey(key, key.substring(0, 12) + "…" + key.substring(key.length() - 4), sha256(key));
  }

  public static Optional<PresentedKey> parseApiKey(String presented) {
    if (presented == null) {
      return Optional.empty();
    }
    Matcher m = API_KEY.matcher(presented.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new PresentedKey(fromHex(m.group(1)), sha256(presented.trim())));
  }

  public static String newWidgetKey(UUID tenantId) {
    return "pk_" + hex(tenantId) + "_" + random(16);
  }

  /** The tenant a widget key names; the key must still match the tenant's stored one. */
  public static Optional<UUID> widgetKeyTenant(String presented) {
    if (presented == null) {
      return Optional.empty();
    }
    Matcher m = WIDGET_KEY.matcher(presented.trim());
    return m.matches() ? Optional.of(fromHex(m.group(1))) : Optional.empty();
  }

  public static String sha256(String value) {
    return HexFormat.of().formatHex(SHA256.get().digest(value.getBytes(StandardCharsets.UTF_8)));
  }

  private static String hex(UUID id) {
    return id.toString().replace("-", "");
  }

  private static UUID fromHex(String hex) {
    return UUID.fromString(hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16)
        + "-" + hex.substring(16, 20) + "-" + hex.substring(20));
  }

  private static String random(int length) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }
}
