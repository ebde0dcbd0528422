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
  private final String param;

  public CanaryException(BusFailure failure, String code, String message) {
    this(failure, code, message, null);
  }

  /** {@code param}: the request field at fault (the OpenAI error's {@code param}), or null. */
  public CanaryException(BusFailure failure, String code, String message, String param) {
    super(message, null, false, false);
    this.failure = failure;
    this.code = code;
    this.param = param;
  }

  public static CanaryException notFound(String what) {
    return new CanaryException(BusFailure.NOT_FOUND, "not_found", what + " not found");
  }

  public static CanaryException invalid(String message) {
    return new CanaryException(BusFailure.INVALID_REQUEST, "invalid_value", message);
  }

  /** A bad value of one field: 400 invalid_value naming the field. */
  public static CanaryException invalidField(String param, String message) {
    return new CanaryException(BusFailure.INVALID_REQUEST, "invalid_value", message, param);
  }

  /** A URL the outbound policy refuses (internal address, user info, odd host form, plain http): 400 url_refused. */
  public static CanaryException urlRefused(String param, String message) {
    return new CanaryException(BusFailure.INVALID_REQUEST, "url_refused", message, param);
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

  /** The field at fault, or null when the refusal names none. */
  public String param() {
    return param;
  }
}
