package ai.deepchat.gpu.engine;

import ai.deepchat.platform.nativelib.NativeLibraries;
import java.util.HashMap;
import java.util.Map;

/**
 * The JNI binding (C++ side: native/jni/ai_deepchat_gpu_engine_NativeEngine.cpp, compiled against
 * the header {@code javac -h} generates from this class, so a changed signature fails the build).
 * Every method takes the handle returned by {@link #load}; errors arrive as {@link EngineException}.
 * Arrays cross the boundary (cheap, nothing for C++ to construct) and become records here at once.
 */
final class NativeEngine {
  static final String LIBRARY = "dsengine_jni";

  // Layouts of the arrays the natives fill. javac -h copies these constants into the generated
  // header and the C++ side writes by their names, so the two sides share one definition.
  static final int INFO_VOCAB_SIZE = 0;
  static final int INFO_MAX_CONTEXT = 1;
  static final int INFO_BOS_TOKEN_ID = 2;
  static final int INFO_HIDDEN_SIZE = 3;
  static final int INFO_LAYERS = 4;
  static final int INFO_HEADS = 5;
  static final int INFO_KV_HEADS = 6;
  static final int INFO_MAX_SEQUENCES = 7;
  static final int INFO_INTS = 8;
  static final int EVENT_SEQ_ID = 0;
  static final int EVENT_TOKEN = 1;
  static final int EVENT_FINISH = 2;
  static final int EVENT_PROMPT_TOKENS = 3;
  static final int EVENT_COMPLETION_TOKENS = 4;
  static final int EVENT_INTS = 5;
  static final int STATS_LIVE = 0;
  static final int STATS_KV_USED_TOKENS = 1;
  static final int STATS_KV_TOTAL_TOKENS = 2;
  static final int STATS_LONGS = 3;

  static {
    NativeLibraries.load(LIBRARY, NativeEngine.class);
  }

  private NativeEngine() {}

  /**
   * One sequence's news from a step.
   *
   * @param token the new token, -1 when the event only carries a finish
   * @param finishCode 0 while running, else {@link FinishReason#fromNative}'s code
   * @param completionTokens tokens delivered with a token id so far, this one included
   */
  record StepEvent(int seqId, int token, int finishCode, int promptTokens, int completionTokens) {}

  /** Live sequences, KV positions they reserve, KV positions in the cache. */
  record KvStats(int live, long usedTokens, long totalTokens) {}

  static ModelInfo modelInfo(long handle) {
    int[] i = info(handle);
    return new ModelInfo(architecture(handle), i[INFO_VOCAB_SIZE], i[INFO_MAX_CONTEXT], i[INFO_BOS_TOKEN_ID],
        eosTokenIds(handle), i[INFO_HIDDEN_SIZE], i[INFO_LAYERS], i[INFO_HEADS], i[INFO_KV_HEADS],
        i[INFO_MAX_SEQUENCES], weightBytes(handle));
  }

  /** One batched step: the events of every sequence that produced a token or finished. */
  static StepEvent[] stepEvents(long handle) {
    int[] ev = step(handle);
    StepEvent[] events = new StepEvent[ev.length / EVENT_INTS];
    for (int e = 0; e < events.length; e++) {
      int i = e * EVENT_INTS;
      events[e] = new StepEvent(ev[i + EVENT_SEQ_ID], ev[i + EVENT_TOKEN], ev[i + EVENT_FINISH],
          ev[i + EVENT_PROMPT_TOKENS], ev[i + EVENT_COMPLETION_TOKENS]);
    }
    return events;
  }

  /**
   * The log-probabilities of the last step's tokens, by native sequence id, for the sequences that
   * asked ({@link #requestLogprobs}). Layout per token: seq id, token, logprob, k, then k (id, logprob)
   * pairs, the floats as their int bits.
   */
  static Map<Integer, Logprobs> lastLogprobsBySequence(long handle) {
    int[] a = lastLogprobs(handle);
    Map<Integer, Logprobs> out = new HashMap<>();
    for (int i = 0; i < a.length; ) {
      int seq = a[i];
      float logprob = Float.intBitsToFloat(a[i + 2]);
      int k = a[i + 3];
      int[] ids = new int[k];
      float[] lps = new float[k];
      for (int j = 0; j < k; j++) {
        ids[j] = a[i + 4 + 2 * j];
        lps[j] = Float.intBitsToFloat(a[i + 5 + 2 * j]);
      }
      out.put(seq, new Logprobs(logprob, ids, lps));
      i += 4 + 2 * k;
    }
    return out;
  }

  static KvStats kvStats(long handle) {
    long[] s = stats(handle);
    return new KvStats((int) s[STATS_LIVE], s[STATS_KV_USED_TOKENS], s[STATS_KV_TOTAL_TOKENS]);
  }

  static native long load(String modelDir, String backend, int threads, boolean int8, int maxSequences,
      int maxContext);

  static native void close(long handle);

  /** {@code adapter}: an id from {@link #loadAdapter}, or 0 for the base model. */
  static native int start(long handle, int[] prompt, float temperature, float topP, int topK,
      float repetitionPenalty, long seed, int maxTokens, int[] stopTokenIds, int adapter);

  /** Loads a PEFT LoRA adapter folder over the base weights; returns its id (> 0). */
  static native int loadAdapter(long handle, String dir);

  /** Forgets the adapter; sequences already using it finish with it. */
  static native void unloadAdapter(long handle, int adapter);

  static native void cancel(long handle, int seqId);

  /** From the next step on, the sequence's tokens come with log-probabilities and {@code top} (0-20) alternatives. */
  static native void requestLogprobs(long handle, int seqId, int top);

  private static native int[] lastLogprobs(long handle);

  /** Restricts the sequence's next samples to the tokens set in {@code mask} (null: no restriction). */
  static native void setTokenMask(long handle, int seqId, long[] mask);

  static native int active(long handle);

  static native float[] forwardLogits(long handle, int[] tokens, boolean allPositions, int adapter);

  private static native String architecture(long handle);

  /** INFO_INTS ints, laid out by the INFO_ constants. */
  private static native int[] info(long handle);

  private static native int[] eosTokenIds(long handle);

  private static native long weightBytes(long handle);

  /** EVENT_INTS ints per event, laid out by the EVENT_ constants. */
  private static native int[] step(long handle);

  /** STATS_LONGS longs, laid out by the STATS_ constants. */
  private static native long[] stats(long handle);
}
