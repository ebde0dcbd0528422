package ai.deepchat.console.auth;

import java.util.UUID;

/**
 * The signed-in person of one request, as verified from the session cookie and re-read from the
 * database (so a role change or a removed account takes effect at once). A platform super-admin has no
 * tenant and no tenant role.
 */
public record ConsoleSession(String jti, UUID userId, UUID tenantId, String tenantSlug, String email,
                             String displayName, ConsoleRole role, boolean superAdmin) {

  public static final String CONTEXT_KEY = "consoleSession";

  /** For audit rows: who did it. */
  public String actor() {
    return superAdmin ? "platform:" + email : "user:" + email;
  }

  public boolean can(ConsoleRole needed) {
    return !superAdmin && role != null && role.atLeast(needed);
  }
}
