package ai.deepchat.gpu.engine;

/**
 * The JNI surface (C++ side: native/jni/ai_deepchat_gpu_engine_NativeEngine.cpp). Every method
 * takes the handle returned by {@link #load}; errors arrive as {@link EngineException}.
 * Regenerate the header with {@code javac -h native/jni} after changing a signature.
 */
final class NativeEngine {
  static final int EVENT_INTS = 5;  // seqId, token (-1: none), finish code, promptTokens, completionTokens

  static {
    NativeLibrary.load();
  }

  private NativeEngine() {}

  static native long load(String modelDir, String backend, int threads, boolean int8, int maxSequences,
      int maxContext);

  static native void close(long handle);

  static native String architecture(long handle);

  /** vocab, maxContext, bos, hidden, layers, heads, kvHeads, maxSequences. */
  static native int[] info(long handle);

  static native int[] eosTokenIds(long handle);

  static native long weightBytes(long handle);

  static native int start(long handle, int[] prompt, float temperature, float topP, int topK,
      float repetitionPenalty, long seed, int maxTokens, int[] stopTokenIds);

  static native void cancel(long handle, int seqId);

  /** One batched step; returns EVENT_INTS ints per event. */
  static native int[] step(long handle);

  static native int active(long handle);

  /** Live sequences, KV positions they reserve, KV positions in the cache. */
  static native long[] stats(long handle);

  static native float[] forwardLogits(long handle, int[] tokens, boolean allPositions);
}
