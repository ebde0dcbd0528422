package ai.deepchat.canary.rollout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * The bucket of a conversation in a rollout: SHA-256 of "rolloutId:conversationId", first 8 bytes as
 * an unsigned number, modulo 10,000. A pure function of the two ids, so every node, before and after a
 * restart, puts a conversation in the same bucket; salting with the rollout id keeps successive
 * rollouts from always picking the same conversations.
 */
public final class Buckets {

  public static final int COUNT = 10_000;

  private Buckets() {
  }

  public static int of(UUID rolloutId, UUID conversationId) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] digest = sha.digest((rolloutId + ":" + conversationId).getBytes(StandardCharsets.US_ASCII));
    return (int) Long.remainderUnsigned(ByteBuffer.wrap(digest, 0, 8).getLong(), COUNT);
  }
}
