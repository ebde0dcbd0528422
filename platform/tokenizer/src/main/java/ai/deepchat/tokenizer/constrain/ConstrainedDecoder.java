package ai.deepchat.tokenizer.constrain;

/**
 * One constrained generation: the automaton's state as tokens are sampled, and before each step
 * the mask of the tokens that keep the output valid and finishable within {@code maxTokens}. Not
 * thread-safe: the engine's scheduler thread drives it.
 */
public final class ConstrainedDecoder {
  private final TokenMasker masker;
  private final int[] eos;
  private final int maxTokens;
  private State state;
  private int generated;

  /**
   * @throws IllegalArgumentException when max_tokens cannot hold the shortest valid output, or the
   *     grammar needs tool-call tokens the vocabulary lacks
   */
  public ConstrainedDecoder(TokenMasker masker, Grammar grammar, int maxTokens, int[] eosTokenIds) {
    if (grammar.minTokens() > maxTokens) {
      throw new IllegalArgumentException("max_tokens " + maxTokens + " is too small for the shortest output the "
          + "format allows (" + grammar.minTokens() + " tokens)");
    }
    if (grammar.usesMarkers()) {
      for (int id : masker.vocabulary().markerIds) {
        if (id < 0) {
          throw new IllegalArgumentException("this model's vocabulary has no DeepSeek tool-call tokens");
        }
      }
    }
    this.masker = masker;
    this.eos = eosTokenIds.clone();
    this.maxTokens = maxTokens;
    this.state = grammar.start();
  }

  /** The tokens the next sample may take; the vocabulary's size in bits. */
  public long[] nextMask() {
    return masker.allowed(state, maxTokens - generated, eos);
  }

  /**
   * Moves past a sampled token.
   *
   * @throws IllegalStateException when the token was not allowed (the mask was not applied)
   */
  public void accept(int token) {
    State next = masker.advance(state, token);
    if (next == null) {
      throw new IllegalStateException("token " + token + " breaks the output constraint");
    }
    state = next;
    generated++;
  }

  /** Whether the output so far is complete (end-of-sequence is allowed now). */
  public boolean complete() {
    return state.accepting();
  }
}
