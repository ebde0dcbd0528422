package ai.deepchat.rag;

/** Every failure the RAG module reports, with the code used on the bus and as HTTP status. */
public enum RagError {
  /** Unknown knowledge base or document, or one of another tenant: the two are indistinguishable. */
  NOT_FOUND(404),
  /** Empty, binary or non-UTF-8 upload, blank query, malformed ids. */
  INVALID_INPUT(400),
  /** A knowledge base of that name exists already. */
  CONFLICT(409),
  /** Upload above the configured limit. */
  TOO_LARGE(413),
  /** A file type we cannot ingest. */
  UNSUPPORTED_TYPE(415),
  /** Anything else: database, FAISS or model failure. */
  INTERNAL(500);

  private final int code;

  RagError(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }
}
