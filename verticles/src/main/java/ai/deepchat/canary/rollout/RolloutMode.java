package ai.deepchat.canary.rollout;

import java.util.Locale;

/**
 * CANARY: a share of conversations goes to the candidate. AB: two or more arms with fixed shares.
 * SHADOW: every caller gets the stable answer; for a share of conversations the candidate answers too,
 * and its answer is only stored for comparison.
 */
public enum RolloutMode {
  CANARY, AB, SHADOW;

  public String sql() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static RolloutMode parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
