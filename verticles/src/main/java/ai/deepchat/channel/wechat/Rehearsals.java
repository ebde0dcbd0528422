package ai.deepchat.channel.wechat;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The test round trips running on this node: the made-up user of each, and the loopback API base its
 * answer must go to. A test user's messages go only there; with no round trip registered (it ended, or
 * another node took the message over) they go nowhere, never to WeChat.
 */
final class Rehearsals {

  static final String USER_PREFIX = "deepchat-test-";
  private static final String MAP = "channel.rehearsals";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Rehearsals() {
  }

  static String newUser() {
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    return USER_PREFIX + HexFormat.of().formatHex(b);
  }

  static boolean testUser(String user) {
    return user != null && user.startsWith(USER_PREFIX);
  }

  static void register(Vertx vertx, ChannelConfig ch, String user, String apiBase) {
    map(vertx).put(key(ch, user), apiBase);
  }

  static void end(Vertx vertx, ChannelConfig ch, String user) {
    map(vertx).remove(key(ch, user));
  }

  /** The loopback API base for a test user's messages, or null when no round trip of this node awaits them. */
  static String apiBase(Vertx vertx, ChannelConfig ch, String user) {
    return map(vertx).get(key(ch, user));
  }

  private static LocalMap<String, String> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }

  private static String key(ChannelConfig ch, String user) {
    return ch.tenantId() + ":" + ch.id() + ":" + user;
  }
}
