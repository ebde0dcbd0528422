package ai.deepchat.chat.dispatch;

/**
 * What a request's {@code model} field may say besides a version's own name. {@code deepseek-chat} is
 * the name OpenAI-style clients and our docs send first; unless the workspace has a version of that
 * name it means the workspace's default, as an unnamed request does, so a fresh install answers it.
 */
public final class ModelNames {

  public static final String DEFAULT_ALIAS = "deepseek-chat";

  private ModelNames() {
  }

  /** No model asked for: the workspace's serving version or the platform default. */
  public static boolean unnamed(String requested) {
    return requested == null || requested.isBlank() || requested.equals("default");
  }

  public static boolean defaultAlias(String requested) {
    return DEFAULT_ALIAS.equals(requested);
  }
}
