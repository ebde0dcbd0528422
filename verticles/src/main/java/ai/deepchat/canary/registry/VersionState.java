package ai.deepchat.canary.registry;

import java.util.Locale;
import java.util.Set;

/**
 * Life cycle of a model version. draft → canary (a rollout tries it) → stable (promoted) → retired;
 * a rolled-back candidate returns to draft. Older stable versions stay stable (ready for an instant
 * rollback) until a fourth newer one retires them.
 */
public enum VersionState {
  DRAFT, CANARY, STABLE, RETIRED;

  public String sql() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static VersionState parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }

  public boolean canMoveTo(VersionState next) {
    return switch (this) {
      case DRAFT -> Set.of(CANARY, STABLE, RETIRED).contains(next);
      case CANARY -> Set.of(DRAFT, STABLE).contains(next);
      case STABLE -> next == RETIRED;
      case RETIRED -> false;
    };
  }
}
