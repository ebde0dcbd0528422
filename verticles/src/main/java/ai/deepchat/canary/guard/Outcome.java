package ai.deepchat.canary.guard;

/**
 * How one generation went, as the dispatcher saw it. {@code ok} false for a backend error (not for a
 * client that went away); {@code ttftMillis} is -1 when no token arrived; {@code generationMillis} runs
 * from the request to the last token; {@code moderationHit} is true when moderation masked or blocked
 * the answer.
 */
public record Outcome(boolean ok, String errorCode, long ttftMillis, int completionTokens, long generationMillis,
                      boolean moderationHit) {

  public static Outcome success(long ttftMillis, int completionTokens, long generationMillis) {
    return new Outcome(true, null, ttftMillis, completionTokens, generationMillis, false);
  }

  public static Outcome failure(String errorCode, long elapsedMillis) {
    return new Outcome(false, errorCode, -1, 0, elapsedMillis, false);
  }

  /** Output tokens per second after the first token, or -1 when not measurable. */
  public double tokensPerSecond() {
    long decodeMillis = generationMillis - Math.max(0, ttftMillis);
    return ok && completionTokens > 1 && decodeMillis > 0 ? (completionTokens - 1) * 1000.0 / decodeMillis : -1;
  }
}
