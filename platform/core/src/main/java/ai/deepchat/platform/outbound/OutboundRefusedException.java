package ai.deepchat.platform.outbound;

/** A URL or address the outbound policy refuses; the message says why, for logs and the admin who set it. */
public final class OutboundRefusedException extends RuntimeException {

  public OutboundRefusedException(String message) {
    super(message, null, false, false);
  }
}
