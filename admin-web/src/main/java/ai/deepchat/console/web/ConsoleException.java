package ai.deepchat.console.web;

/**
 * A console request that cannot be served, with the HTTP status and the message key shown on the
 * error page (never internal details).
 */
public final class ConsoleException extends RuntimeException {

  private final int status;
  private final Object[] params;

  public ConsoleException(int status, String messageKey, Object... params) {
    super(messageKey, null, false, false);
    this.status = status;
    this.params = params.clone();
  }

  public Object[] params() {
    return params.clone();
  }

  public int status() {
    return status;
  }

  public String messageKey() {
    return getMessage();
  }

  public static ConsoleException notFound() {
    return new ConsoleException(404, "error.404");
  }

  public static ConsoleException forbidden() {
    return new ConsoleException(403, "error.403");
  }

  public static ConsoleException badRequest(String messageKey, Object... params) {
    return new ConsoleException(400, messageKey, params);
  }
}
