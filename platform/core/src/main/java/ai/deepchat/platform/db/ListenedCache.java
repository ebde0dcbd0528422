package ai.deepchat.platform.db;

/**
 * A per-node cache kept true by PostgreSQL notifications: it serves only while a LISTEN on its
 * {@link #channel()} is live ({@code AuthChangeVerticle} holds one connection for all of them), drops
 * what a notification names, and starts from nothing on every (re)connect.
 */
public interface ListenedCache {

  /** The NOTIFY channel its triggers announce changes on. */
  String channel();

  /** A notification's payload arrived. */
  void invalidate(String payload);

  /** Empties the cache and starts (true: a LISTEN just succeeded) or stops (false: it was lost) serving. */
  void reset(boolean listening);
}
