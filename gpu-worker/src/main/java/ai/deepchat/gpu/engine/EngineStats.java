package ai.deepchat.gpu.engine;

/**
 * What an engine holds at one moment, for the worker's gauges.
 *
 * @param running live sequences (prefilling or decoding)
 * @param queued started generations waiting for a free sequence slot
 * @param kvUsedTokens KV positions reserved by the live sequences (prompt + max tokens, capped at the
 *     context, reserved when a sequence starts)
 * @param kvTotalTokens KV positions the cache holds (the paged pool on CUDA; every slot at the full
 *     context on the CPU backend)
 */
public record EngineStats(int running, int queued, long kvUsedTokens, long kvTotalTokens) {

  /** Fraction of the KV cache reserved, 0..1. */
  public double kvUse() {
    return kvTotalTokens <= 0 ? 0 : (double) kvUsedTokens / kvTotalTokens;
  }
}
