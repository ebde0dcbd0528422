package ai.deepchat.gpu.engine;

/**
 * Constrained decoding for one sequence: before each step the scheduler asks for the mask of the
 * tokens the next sample may take, and tells it each token sampled. Called on the scheduler thread
 * only, in order; a mask computation runs there too, so implementations cache what they can.
 */
public interface TokenConstraint {

  /** Bit i of word i / 64 set: token i may come next. Must allow at least one token. */
  long[] nextMask();

  /** The token just sampled (always one the last mask allowed). */
  void accept(int tokenId);
}
