package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;

import java.util.List;

/**
 * Receives one generation. Exactly one of {@link #onDone} and {@link #onError} ends it; nothing is
 * called after {@link Generation#cancel()}. Calls arrive on the context that started the generation.
 */
public interface GenerationListener {

  void onDelta(String content, String reasoning);

  /**
   * A delta with the engine worker's timing ({@code stamp} null when the backend has none); listeners
   * that measure the platform's added latency override this one.
   */
  default void onDelta(String content, String reasoning, EngineStamp stamp) {
    onDelta(content, reasoning);
  }

  /** Pieces of tool calls the model made (after any content delta of the same step). */
  default void onToolCalls(List<ToolCallDelta> pieces) {
  }

  /**
   * A delta with the log-probabilities of its tokens ({@code logprobs} null unless the sampling asked
   * for them, and the backend gives them); listeners that pass them on override this one.
   */
  default void onDelta(String content, String reasoning, EngineStamp stamp, List<TokenLogprob> logprobs) {
    onDelta(content, reasoning, stamp);
  }

  /** {@code usage} is null when the backend did not report it. */
  void onDone(String finishReason, Usage usage);

  void onError(String code, String message);

  /**
   * The primary backend failed before its first token and the fallback now answers; the generation
   * goes on, so this is no end. Rollout guards count it as the primary version's failure.
   */
  default void onFallback(String code, String message) {
  }

  /** A running generation. */
  interface Generation {
    void cancel();
  }
}
