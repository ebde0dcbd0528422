package ai.deepchat.handoff;

/**
 * A refused handoff request: the HTTP status and a stable code ({@code not_assigned}, {@code cap_reached},
 * ...) that the widget and console edges answer in their own JSON error shapes.
 */
public final class HandoffException extends RuntimeException {

  private final int status;
  private final String code;

  public HandoffException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  static HandoffException badRequest(String code, String message) {
    return new HandoffException(400, code, message);
  }

  static HandoffException notFound(String code, String message) {
    return new HandoffException(404, code, message);
  }

  static HandoffException conflict(String code, String message) {
    return new HandoffException(409, code, message);
  }

  static HandoffException forbidden(String code, String message) {
    return new HandoffException(403, code, message);
  }
}
