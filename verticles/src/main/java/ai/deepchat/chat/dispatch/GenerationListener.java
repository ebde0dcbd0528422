package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.Usage;

/**
 * Receives one generation. Exactly one of {@link #onDone} and {@link #onError} ends it; nothing is
 * called after {@link Generation#cancel()}. Calls arrive on the context that started the generation.
 */
public interface GenerationListener {

  void onDelta(String content, String reasoning);

  /** {@code usage} is null when the backend did not report it. */
  void onDone(String finishReason, Usage usage);

  void onError(String code, String message);

  /** A running generation. */
  interface Generation {
    void cancel();
  }
}
