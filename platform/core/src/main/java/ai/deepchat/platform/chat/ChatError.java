package ai.deepchat.platform.chat;

import java.util.Arrays;
import java.util.Optional;

/**
 * Failure codes of the chat pipeline's request/reply addresses ({@code message.fail(code, text)}), each
 * with the HTTP status and OpenAI-style error code the edge answers with.
 */
public enum ChatError {
  INVALID_REQUEST(4000, 400, "invalid_request"),
  MESSAGE_TOO_LONG(4001, 400, "message_too_long"),
  CONTEXT_TOO_LONG(4002, 400, "context_length_exceeded"),
  MODEL_NOT_FOUND(4040, 404, "model_not_found"),
  CONVERSATION_NOT_FOUND(4041, 404, "conversation_not_found"),
  TURN_IN_PROGRESS(4090, 409, "turn_in_progress"),
  UNAVAILABLE(5030, 503, "service_unavailable"),
  INTERNAL(5000, 500, "internal_error");

  private final int code;
  private final int httpStatus;
  private final String apiCode;

  ChatError(int code, int httpStatus, String apiCode) {
    this.code = code;
    this.httpStatus = httpStatus;
    this.apiCode = apiCode;
  }

  public int code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String apiCode() {
    return apiCode;
  }

  public static Optional<ChatError> of(int code) {
    return Arrays.stream(values()).filter(e -> e.code == code).findFirst();
  }

  /**
   * A failure worth retrying: a dependency (database, another node) unreachable. SQL errors are not:
   * they are bugs or constraint violations.
   */
  public static boolean isTransient(Throwable err) {
    return err instanceof java.io.IOException
        || (err instanceof io.vertx.core.VertxException && !(err instanceof io.vertx.sqlclient.DatabaseException));
  }

  /** A failure carrying its code, so futures can fail with it and handlers reply with it. */
  public ChatException exception(String message) {
    return new ChatException(this, message);
  }

  public static final class ChatException extends RuntimeException {
    private final ChatError error;

    public ChatException(ChatError error, String message) {
      super(message, null, false, false);
      this.error = error;
    }

    public ChatError error() {
      return error;
    }
  }
}
