package ai.deepchat.gpu.engine;

/**
 * Token selection for one sequence. {@code temperature <= 0} is greedy; {@code topK = 0} and
 * {@code topP = 1} disable those filters; {@code repetitionPenalty = 1} disables the penalty
 * (HF semantics: positive logits of seen tokens divided, negative ones multiplied). The same seed
 * and inputs give the same tokens.
 */
public record Sampling(float temperature, float topP, int topK, float repetitionPenalty, long seed, int maxTokens,
    int[] stopTokenIds) {

  public Sampling {
    stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
  }

  public static Sampling greedy(int maxTokens, int... stopTokenIds) {
    return new Sampling(0f, 1f, 0, 1f, 0L, maxTokens, stopTokenIds);
  }

  @Override
  public int[] stopTokenIds() {
    return stopTokenIds.clone();
  }
}
