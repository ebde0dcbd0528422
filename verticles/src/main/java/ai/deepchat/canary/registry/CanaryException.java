package ai.deepchat.canary.registry;

/**
 * A refused registry or rollout change: the HTTP status it maps to (400 invalid, 404 unknown or
 * another tenant's, 409 not allowed in the current state) and a stable machine-readable code.
 */
public final class CanaryException extends RuntimeException {

  private final int status;
  private final String code;

  public CanaryException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static CanaryException notFound(String what) {
    return new CanaryException(404, "not_found", what + " not found");
  }

  public static CanaryException invalid(String message) {
    return new CanaryException(400, "invalid_value", message);
  }

  /** A URL the outbound policy refuses (internal address, user info, odd host form): 400 url_refused. */
  public static CanaryException urlRefused(String message) {
    return new CanaryException(400, "url_refused", message);
  }

  public static CanaryException conflict(String code, String message) {
    return new CanaryException(409, code, message);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }
}
