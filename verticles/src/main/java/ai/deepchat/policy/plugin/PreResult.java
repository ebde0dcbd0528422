package ai.deepchat.policy.plugin;

/** A plugin's pre-processing outcome: go on with {@code message}, or answer directly with {@code answer}. */
public record PreResult(String message, String answer) {

  public static PreResult proceed(String message) {
    return new PreResult(message, null);
  }

  public static PreResult answer(String message, String answer) {
    return new PreResult(message, answer);
  }

  public boolean answered() {
    return answer != null;
  }
}
