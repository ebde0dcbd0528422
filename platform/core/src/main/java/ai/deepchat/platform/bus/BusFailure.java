package ai.deepchat.platform.bus;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every failure a bus consumer replies with ({@code message.fail(code, text)}) and every error code a
 * stream event carries, with the HTTP status and API error code the edge answers with and whether
 * trying again (another worker, a later request) can help. {@link #code()} is the reply's
 * {@code failureCode}: stable and independent of the constants' order, so nodes of different versions
 * agree on it.
 */
public enum BusFailure {
  // A generic failure's code is its HTTP status; a specific one's is that status times ten plus a digit.
  INVALID_REQUEST(400, 400, "invalid_request", false),
  MESSAGE_TOO_LONG(4001, 400, "message_too_long", false),
  CONTEXT_TOO_LONG(4002, 400, "context_length_exceeded", false),
  /** Unknown, or another tenant's: the two are indistinguishable. */
  NOT_FOUND(404, 404, "not_found", false),
  MODEL_NOT_FOUND(4040, 404, "model_not_found", false),
  CONVERSATION_NOT_FOUND(4041, 404, "conversation_not_found", false),
  CONFLICT(409, 409, "conflict", false),
  TURN_IN_PROGRESS(4090, 409, "turn_in_progress", false),
  TOO_LARGE(413, 413, "too_large", false),
  UNSUPPORTED_TYPE(415, 415, "unsupported_type", false),
  INTERNAL(500, 500, "internal_error", false),
  /** The answer could not be stored after it was generated. */
  STORAGE_ERROR(5001, 500, "storage_error", false),
  /** The model backend refused or broke off the generation. */
  BACKEND_ERROR(502, 502, "backend_error", false),
  /** A dependency (database, another node, an engine) is out of reach for now. */
  UNAVAILABLE(503, 503, "service_unavailable", true),
  /** No model backend could take the generation (no worker, worker lost, backend down). */
  BACKEND_UNAVAILABLE(5031, 503, "backend_unavailable", true),
  /** The model backend went quiet for longer than the idle timeout. */
  BACKEND_TIMEOUT(504, 504, "backend_timeout", false),
  /** The edge stopped waiting for a turn's events. */
  TIMEOUT(5041, 504, "timeout", false);

  private final int code;
  private final int httpStatus;
  private final String apiCode;
  private final boolean retryable;

  BusFailure(int code, int httpStatus, String apiCode, boolean retryable) {
    this.code = code;
    this.httpStatus = httpStatus;
    this.apiCode = apiCode;
    this.retryable = retryable;
  }

  /** The reply's {@code failureCode}. */
  public int code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The error code API clients see (OpenAI-style {@code error.code}, stream error events). */
  public String apiCode() {
    return apiCode;
  }

  /** Whether another attempt (another worker, a later request) may succeed. */
  public boolean retryable() {
    return retryable;
  }

  /** Replies to {@code message} with this failure. */
  public void fail(Message<?> message, String text) {
    message.fail(code, text);
  }

  /** A failure carrying this code, so futures can fail with it and handlers reply with it. */
  public Failed exception(String message) {
    return new Failed(this, message);
  }

  /**
   * The failure behind a reply code. A specific code this node does not know (from a newer node, or
   * the chat pipeline's 4000, 5000 and 5030 of the previous version) reads as its generic failure.
   */
  public static Optional<BusFailure> ofCode(int code) {
    Optional<BusFailure> exact = Arrays.stream(values()).filter(f -> f.code == code).findFirst();
    return exact.isPresent() || code < 1000 ? exact : ofCode(code / 10);
  }

  /** The failure behind a stream event's error code; empty for a code of none of ours. */
  public static Optional<BusFailure> ofApiCode(String apiCode) {
    return Arrays.stream(values()).filter(f -> f.apiCode.equals(apiCode)).findFirst();
  }

  /**
   * Reads any failure back: a consumer's reply by its code, a reply that never came (no consumer,
   * timeout, node unreachable) or a dependency out of reach as {@link #UNAVAILABLE}, our own
   * exception by its failure, anything else as {@link #INTERNAL}.
   */
  public static BusFailure of(Throwable err) {
    if (err instanceof Failed f) {
      return f.failure();
    }
    if (err instanceof ReplyException re) {
      return re.failureType() == ReplyFailure.RECIPIENT_FAILURE
          ? ofCode(re.failureCode()).orElse(INTERNAL) : UNAVAILABLE;
    }
    return isTransient(err) ? UNAVAILABLE : INTERNAL;
  }

  /**
   * A failure worth retrying: a dependency (database, another node) unreachable. SQL errors are not:
   * they are bugs or constraint violations.
   */
  public static boolean isTransient(Throwable err) {
    return err instanceof java.io.IOException
        || (err instanceof io.vertx.core.VertxException && !(err instanceof io.vertx.sqlclient.DatabaseException));
  }

  /** An exception with its {@link BusFailure}. */
  public static final class Failed extends RuntimeException {
    private final BusFailure failure;

    public Failed(BusFailure failure, String message) {
      super(message, null, false, false);
      this.failure = failure;
    }

    public BusFailure failure() {
      return failure;
    }
  }
}
