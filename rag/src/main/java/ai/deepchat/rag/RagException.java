package ai.deepchat.rag;

/** A failure with its {@link RagError}, so the bus and HTTP edges can answer with the right code. */
public class RagException extends RuntimeException {

  private final RagError error;

  public RagException(RagError error, String message) {
    super(message);
    this.error = error;
  }

  public RagException(RagError error, String message, Throwable cause) {
    super(message, cause);
    this.error = error;
  }

  public RagError error() {
    return error;
  }

  /** The error behind any failure: ours as is, everything else internal. */
  public static RagError errorOf(Throwable failure) {
    return failure instanceof RagException rag ? rag.error() : RagError.INTERNAL;
  }
}
