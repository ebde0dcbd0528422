package ai.deepchat.rag.faiss;

/** A failure inside FAISS (bad factory string, unreadable file, unsupported operation...). */
public class FaissException extends RuntimeException {

  public FaissException(String message) {
    super(message);
  }

  public FaissException(String message, Throwable cause) {
    super(message, cause);
  }
}
