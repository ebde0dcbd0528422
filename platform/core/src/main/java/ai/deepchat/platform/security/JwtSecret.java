package ai.deepchat.platform.security;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.DatabaseBootstrap;

/**
 * The node's one signing secret, behind console sessions, CSRF tokens and widget visitor tokens:
 * JWT_SECRET, else a secret generated once under DATA_DIR/secrets (shared by every process on that
 * data directory).
 */
public final class JwtSecret {

  /** The file under DATA_DIR/secrets that holds the generated secret. */
  public static final String FILE = "jwt-secret";

  private JwtSecret() {
  }

  /** Blocking (a file): call at start-up, off the event loop. */
  public static String resolve(PlatformConfig config) {
    return config.console().jwtSecret().orElseGet(() ->
        DatabaseBootstrap.readOrCreateSecret(config.dataDir().resolve("secrets").resolve(FILE)));
  }
}
