package ai.deepchat.gpu.engine;

/** Why a sequence stopped generating. */
public enum FinishReason {
  /** A stop token id was sampled (it is not delivered to {@link TokenListener#onToken}). */
  STOP,
  /** {@code maxTokens} reached, or the context is full. */
  LENGTH,
  /** {@link Sequence#cancel()} or {@link Engine#close()}. */
  CANCELLED;

  static FinishReason fromNative(int code) {
    return switch (code) {
      case 1 -> STOP;
      case 2 -> LENGTH;
      case 3 -> CANCELLED;
      default -> throw new IllegalArgumentException("not a finish code: " + code);
    };
  }
}
