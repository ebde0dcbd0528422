package ai.deepchat.canary.registry;

import java.util.Locale;

/**
 * Where a version runs: LOCAL = a model folder served by engine workers (location is the model key
 * they announce), OPENAI = an OpenAI-compatible endpoint (location is its base URL).
 */
public enum Backend {
  LOCAL, OPENAI;

  public String sql() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Backend parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
