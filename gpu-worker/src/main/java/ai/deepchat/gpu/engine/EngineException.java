package ai.deepchat.gpu.engine;

/**
 * Any failure of the native engine: a bad or unsupported checkpoint, a bad request (prompt longer
 * than the context, token outside the vocabulary, bad sampling parameters), out of memory. Unchecked
 * because callers on worker verticles turn it into a failed future either way.
 */
public final class EngineException extends RuntimeException {

  /** What went wrong, mirrored from the native {@code dse::ErrorKind} (same ordinals). */
  public enum Kind { BAD_CHECKPOINT, UNSUPPORTED, BAD_REQUEST, OUT_OF_MEMORY, INTERNAL }

  private final Kind kind;

  public EngineException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public EngineException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** Called from JNI with the native error kind's ordinal. */
  EngineException(int kindOrdinal, String message) {
    this(kindOrdinal >= 0 && kindOrdinal < Kind.values().length ? Kind.values()[kindOrdinal] : Kind.INTERNAL, message);
  }

  public Kind kind() {
    return kind;
  }
}
