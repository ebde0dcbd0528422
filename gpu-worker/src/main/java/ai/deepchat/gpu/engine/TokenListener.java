package ai.deepchat.gpu.engine;

/**
 * Receives one sequence's output. Called on the engine's scheduler thread, in order, never
 * concurrently for one sequence: implementations must return quickly (hand off to a Vert.x context
 * rather than doing I/O here). Exactly one of {@link #onFinish} or {@link #onError} ends the stream.
 */
public interface TokenListener {
  void onToken(int tokenId);

  /** A token with its log-probabilities (null unless the sampling asked for them). */
  default void onToken(int tokenId, Logprobs logprobs) {
    onToken(tokenId);
  }

  void onFinish(FinishReason reason, int promptTokens, int completionTokens);

  void onError(EngineException e);
}
