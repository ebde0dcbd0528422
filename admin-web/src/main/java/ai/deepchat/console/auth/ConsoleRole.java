package ai.deepchat.console.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * A user's role in one tenant, ordered by power: each role may do everything the ones below it may.
 * agent only works the inbox (human handoff) and its own account; viewer reads; editor also edits
 * knowledge, FAQ answers and sensitive words; admin also the widget, API keys, models and users; owner
 * also owners and the workspace itself. The inbox is for agents, admins and owners ({@link #staffsInbox}).
 */
public enum ConsoleRole {
  AGENT, VIEWER, EDITOR, ADMIN, OWNER;

  /** Whether this role works the agent inbox: agents, admins and owners (not viewers and editors). */
  public boolean staffsInbox() {
    return this == AGENT || atLeast(ADMIN);
  }

  public boolean atLeast(ConsoleRole other) {
    return ordinal() >= other.ordinal();
  }

  public String dbName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<ConsoleRole> parse(String value) {
    if (value == null) {
      return Optional.empty();
    }
    for (ConsoleRole r : values()) {
      if (r.dbName().equals(value.trim())) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
