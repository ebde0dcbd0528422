package ai.deepchat.chat.dispatch;

/**
 * One place a model version can run: the local engine (target = the engine's model key) or an
 * OpenAI-compatible HTTP endpoint (target = base URL, e.g. https://api.deepseek.com).
 */
public record BackendSpec(Kind kind, String target, String remoteModel, String apiKey) {

  public enum Kind { LOCAL, OPENAI }

  public static BackendSpec local(String modelKey) {
    return new BackendSpec(Kind.LOCAL, modelKey, modelKey, null);
  }

  public static BackendSpec openai(String baseUrl, String model, String apiKey) {
    return new BackendSpec(Kind.OPENAI, baseUrl, model, apiKey);
  }

  /** A stable identity for caching and logs; never includes the key. */
  public String describe() {
    return kind == Kind.LOCAL ? "local:" + target : "openai:" + target + "#" + remoteModel;
  }

  @Override
  public String toString() {
    return describe();
  }
}
