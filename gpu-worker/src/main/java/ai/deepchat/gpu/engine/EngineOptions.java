package ai.deepchat.gpu.engine;

/**
 * How to load a model.
 *
 * @param backend "cpu" (this build); "cuda:N" is reserved for the GPU backend
 * @param threads CPU worker threads, 0 for all hardware threads
 * @param int8 quantize weight matrices to int8 (per-row scales) at load time
 * @param maxSequences sequences generating at once
 * @param maxContext tokens per sequence (prompt + completion), 0 for the model's maximum
 */
public record EngineOptions(String backend, int threads, boolean int8, int maxSequences, int maxContext) {

  public EngineOptions {
    if (backend == null || backend.isBlank()) throw new IllegalArgumentException("backend must be set");
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0");
    if (maxSequences <= 0) throw new IllegalArgumentException("maxSequences must be > 0");
    if (maxContext < 0) throw new IllegalArgumentException("maxContext must be >= 0");
  }

  /** CPU, all cores, full precision, 8 sequences, the model's context. */
  public static EngineOptions cpu() {
    return new EngineOptions("cpu", 0, false, 8, 0);
  }
}
