package ai.deepchat.canary.registry;

import ai.deepchat.platform.bus.BusFailure;

/**
 * A refused registry or rollout change: its failure ({@link BusFailure#INVALID_REQUEST},
 * {@link BusFailure#NOT_FOUND} for unknown or another tenant's, {@link BusFailure#CONFLICT} for not
 * allowed in the current state), which gives the HTTP status, and a stable machine-readable code.
 */
public final class CanaryException extends RuntimeException {

  private final BusFailure failure;
  private final String code;

  public CanaryException(BusFailure failure, String code, String message) {
    super(message, null, false, false);
    this.failure = failure;
    this.code = code;
  }

  public static CanaryException notFound(String what) {
    return new CanaryException(BusFailure.NOT_FOUND, "not_found", what + " not found");
  }

  public static CanaryException invalid(String message) {
    return new CanaryException(BusFailure.INVALID_REQUEST, "invalid_value", message);
  }

  /** A URL the outbound policy refuses (internal address, user info, odd host form): 400 url_refused. */
  public static CanaryException urlRefused(String message) {
    return new CanaryException(BusFailure.INVALID_REQUEST, "url_refused", message);
  }

  public static CanaryException conflict(String code, String message) {
    return new CanaryException(BusFailure.CONFLICT, code, message);
  }

  public BusFailure failure() {
    return failure;
  }

  public int status() {
    return failure.httpStatus();
  }

  public String code() {
    return code;
  }
}
