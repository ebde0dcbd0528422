package ai.deepchat.gpu.engine;

/**
 * Token selection for one sequence. {@code temperature <= 0} is greedy; {@code topK = 0} and
 * {@code topP = 1} disable those filters; {@code repetitionPenalty = 1} disables the penalty
 * (HF semantics: positive logits of seen tokens divided, negative ones multiplied). The same seed
 * and inputs give the same tokens. {@code topLogprobs}: -1 for no log-probabilities, else each token
 * comes with its {@link Logprobs} and that many (0-20) alternatives.
 */
public record Sampling(float temperature, float topP, int topK, float repetitionPenalty, long seed, int maxTokens,
    int[] stopTokenIds, int topLogprobs) {

  public Sampling {
    stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    if (topLogprobs < -1 || topLogprobs > 20) {
      throw new EngineException(EngineException.Kind.BAD_REQUEST, "top_logprobs must be -1 to 20, got " + topLogprobs);
    }
  }

  /** Sampling without log-probabilities. */
  public Sampling(float temperature, float topP, int topK, float repetitionPenalty, long seed, int maxTokens,
                  int[] stopTokenIds) {
    this(temperature, topP, topK, repetitionPenalty, seed, maxTokens, stopTokenIds, -1);
  }

  /** These options with log-probabilities and {@code top} alternatives per token (-1: none). */
  public Sampling withLogprobs(int top) {
    return new Sampling(temperature, topP, topK, repetitionPenalty, seed, maxTokens, stopTokenIds, top);
  }

  public static Sampling greedy(int maxTokens, int... stopTokenIds) {
    return new Sampling(0f, 1f, 0, 1f, 0L, maxTokens, stopTokenIds);
  }

  @Override
  public int[] stopTokenIds() {
    return stopTokenIds.clone();
  }
}
