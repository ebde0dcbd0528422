package ai.deepchat.rag;

import ai.deepchat.platform.bus.BusFailure;

/**
 * Every failure the RAG module reports. Its name is the RAG HTTP API's error code; the bus failure
 * gives the code on the bus and the HTTP status.
 */
public enum RagError {
  /** Unknown knowledge base or document, or one of another tenant: the two are indistinguishable. */
  NOT_FOUND(BusFailure.NOT_FOUND),
  /** Empty, binary or non-UTF-8 upload, blank query, malformed ids. */
  INVALID_INPUT(BusFailure.INVALID_REQUEST),
  /** A knowledge base of that name exists already. */
  CONFLICT(BusFailure.CONFLICT),
  /** An evaluation of the knowledge base is running; one runs at a time. */
  EVALUATION_RUNNING(BusFailure.CONFLICT),
  /** The knowledge base is being re-embedded already; one re-embedding runs at a time. */
  REEMBED_RUNNING(BusFailure.CONFLICT),
  /** There is no running re-embedding to cancel. */
  REEMBED_NOT_RUNNING(BusFailure.CONFLICT),
  /** Upload above the configured limit. */
  TOO_LARGE(BusFailure.TOO_LARGE),
  /** A file type we cannot ingest. */
  UNSUPPORTED_TYPE(BusFailure.UNSUPPORTED_TYPE),
  /** Anything else: database, FAISS or model failure. */
  INTERNAL(BusFailure.INTERNAL);

  private final BusFailure failure;

  RagError(BusFailure failure) {
    this.failure = failure;
  }

  public BusFailure failure() {
    return failure;
  }

  public int httpStatus() {
    return failure.httpStatus();
  }
}
