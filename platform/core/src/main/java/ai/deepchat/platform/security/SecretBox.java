package ai.deepchat.platform.security;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.DatabaseBootstrap;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tenant secrets at rest (a channel's AppSecret, token, EncodingAESKey): AES-256-GCM with a random
 * 96-bit nonce per value and associated data naming where the value belongs (tenant, row, field), so a
 * value copied to another row or tenant does not open. Sealed form: {@code v1:<key id>:<base64url(nonce
 * || ciphertext || tag)>}; the key id (8 hex digits of the key's SHA-256) names the key that sealed it,
 * so keys can rotate: SECRETS_KEY seals, SECRETS_OLD_KEYS still open what they sealed, and a node lacking
 * the key says which key id it misses instead of returning garbage. Every node of a cluster needs the
 * same keys. Thread-safe.
 */
public final class SecretBox {

  /** The file under DATA_DIR/secrets that holds the generated key (64 hex digits) when SECRETS_KEY is unset. */
  public static final String FILE = "secrets-key";
  private static final String VERSION = "v1";
  private static final Pattern SEALED = Pattern.compile("v1:([0-9a-f]{8}):([A-Za-z0-9_-]{38,})");
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String currentId;
  /** Key id to key; the current key first. */
  private final Map<String, SecretKeySpec> keys = new LinkedHashMap<>();

  private SecretBox(byte[] current, List<byte[]> old) {
    currentId = add(current);
    old.forEach(this::add);
  }

  /** {@code current} seals and opens; {@code old} only open. Each 32 bytes. */
  public static SecretBox of(byte[] current, List<byte[]> old) {
    return new SecretBox(current, old);
  }

  /**
   * The node's box: SECRETS_KEY and SECRETS_OLD_KEYS, else a key generated once under
   * DATA_DIR/secrets (file 0600, shared by every process on that data directory). Blocking (a file).
   */
  public static SecretBox resolve(PlatformConfig config) {
    PlatformConfig.Secrets secrets = config.secrets();
    byte[] current = secrets.key().map(Base64.getDecoder()::decode).orElseGet(() -> {
      String hex = DatabaseBootstrap.readOrCreateSecret(config.dataDir().resolve("secrets").resolve(FILE), 32);
      if (!hex.matches("[0-9a-f]{64}")) {
        throw new ConfigException("DATA_DIR", "secrets/" + FILE + " does not hold a 32-byte key in hex");
      }
      return HexFormat.of().parseHex(hex);
    });
    return new SecretBox(current, secrets.oldKeys().stream().map(Base64.getDecoder()::decode).toList());
  }

  private String add(byte[] key) {
    if (key.length != 32) {
      throw new IllegalArgumentException("an AES-256 key has 32 bytes, not " + key.length);
    }
    String id = keyId(key);
    keys.putIfAbsent(id, new SecretKeySpec(key, "AES"));
    return id;
  }

  private static String keyId(byte[] key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What every value sealed with the current key starts with. */
  public String currentPrefix() {
    return VERSION + ":" + currentId + ":";
  }

  /** The ids of the keys this node can open with, the sealing one first. */
  public List<String> keyIds() {
    return new ArrayList<>(keys.keySet());
  }

  /** Whether {@code value} has the sealed form (else it is a value stored before encryption at rest). */
  public static boolean isSealed(String value) {
    return value != null && SEALED.matcher(value).matches();
  }

  /** {@code plain} sealed with the current key for the place {@code aad} names. */
  public String seal(String plain, String aad) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, keys.get(currentId), nonce, aad);
      byte[] sealed = cipher.doFinal(plain.getBytes(StandardCharsets.UTF_8));
      byte[] out = ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).array();
      return currentPrefix() + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  /**
   * The value {@link #seal} sealed for {@code aad}. Fails with {@link Unreadable}, saying why, when the
   * key is not this node's, the value was changed, or it belongs to another place.
   */
  public String open(String sealed, String aad) {
    Matcher m = SEALED.matcher(sealed == null ? "" : sealed);
    if (!m.matches()) {
      throw new Unreadable("it is not a sealed value (v1:<key id>:<data>)");
    }
    SecretKeySpec key = keys.get(m.group(1));
    if (key == null) {
      throw new Unreadable("it was sealed with key " + m.group(1) + ", which this node does not have (its keys: "
          + String.join(", ", keys.keySet()) + "); every node needs the same SECRETS_KEY, and SECRETS_OLD_KEYS "
          + "must list the keys rotated out");
    }
    byte[] data;
    try {
      data = Base64.getUrlDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new Unreadable("its data is not base64url");
    }
    try {
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, Arrays.copyOf(data, NONCE_BYTES), aad);
      return new String(cipher.doFinal(data, NONCE_BYTES, data.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new Unreadable("it fails its integrity check under key " + m.group(1)
          + " (changed, or copied from another row or tenant)");
    } catch (GeneralSecurityException e) {
      throw new Unreadable("it cannot be decrypted (" + e.getMessage() + ")");
    }
  }

  private static Cipher cipher(int mode, SecretKeySpec key, byte[] nonce, String aad) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(aad.getBytes(StandardCharsets.UTF_8));
    return cipher;
  }

  /** A sealed value that does not open here; the message says why (never the value). */
  public static final class Unreadable extends RuntimeException {
    Unreadable(String why) {
      super(why, null, false, false);
    }
  }
}
