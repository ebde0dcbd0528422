package ai.deepchat.chat.dispatch;

/**
 * The model version that answers a turn: its row (null for the platform default), the name clients
 * see, where it runs (a fallback is tried only when the primary fails before its first token), the
 * context window, and whether it is the bundled test checkpoint.
 */
public record ModelChoice(String versionId, String name, BackendSpec primary, BackendSpec fallback,
                          int contextTokens, boolean testModel) {

  /** Shown wherever the bundled test checkpoint answers, so nobody mistakes it for a real model. */
  public static final String TEST_MODEL_NOTICE = "This is a tiny test model bundled with DeepChat; its answers are "
      + "not meaningful. To serve a real model set MODEL_DIR (local GPU) or DEEPSEEK_API_KEY (DeepSeek's API); "
      + "see docs/configuration.md.";

  public String notice() {
    return testModel ? TEST_MODEL_NOTICE : null;
  }

  /** Identifies what produced an answer, for the response cache. */
  public String cacheIdentity() {
    return (versionId == null ? "default" : versionId) + "|" + primary.describe();
  }
}
