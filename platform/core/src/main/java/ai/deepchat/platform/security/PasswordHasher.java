package ai.deepchat.platform.security;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Argon2id password hashes (Bouncy Castle) in the PHC string format, e.g.
 * {@code $argon2id$v=19$m=19456,t=2,p=1$salt$hash} (OWASP's recommended minimum parameters).
 * Blocking and CPU-heavy by design: call it from a worker thread.
 */
public final class PasswordHasher {

  private static final int MEMORY_KIB = 19456;
  private static final int ITERATIONS = 2;
  private static final int PARALLELISM = 1;
  private static final int HASH_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private PasswordHasher() {
  }

  public static String hash(String password) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    byte[] out = derive(password, salt, MEMORY_KIB, ITERATIONS, PARALLELISM, HASH_BYTES);
    return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM
        + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(out);
  }

  /** Constant-time check; a malformed stored hash never matches. */
  public static boolean verify(String password, String stored) {
    try {
      String[] parts = stored.split("\\$");
      if (parts.length != 6 || !parts[1].equals("argon2id")) {
        return false;
      }
      int m = 0;
      int t = 0;
      int p = 0;
      for (String kv : parts[3].split(",")) {
        int v = Integer.parseInt(kv.substring(2));
        switch (kv.charAt(0)) {
          case 'm' -> m = v;
          case 't' -> t = v;
          case 'p' -> p = v;
          default -> {
            return false;
          }
        }
      }
      byte[] salt = B64D.decode(parts[4]);
      byte[] expected = B64D.decode(parts[5]);
      byte[] actual = derive(password, salt, m, t, p, expected.length);
      return MessageDigest.isEqual(expected, actual);
    } catch (RuntimeException malformed) {
      return false;
    }
  }

  private static byte[] derive(String password, byte[] salt, int memoryKib, int iterations, int parallelism, int length) {
    Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
        .withVersion(Argon2Parameters.ARGON2_VERSION_13)
        .withMemoryAsKB(memoryKib).withIterations(iterations).withParallelism(parallelism)
        .withSalt(salt).build();
    Argon2BytesGenerator generator = new Argon2BytesGenerator();
    generator.init(params);
    byte[] out = new byte[length];
    generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
    return out;
  }
}
