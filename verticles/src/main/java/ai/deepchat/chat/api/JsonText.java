package ai.deepchat.chat.api;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * A JSON string written straight into a builder with Jackson's string escape, the one its encoder (and so
 * {@code JsonObject.encode()}) uses: for the per-delta frames of the streaming edges, which are built as
 * text rather than as a tree (#25).
 */
public final class JsonText {

  private static final JsonStringEncoder QUOTE = JsonStringEncoder.getInstance();

  private JsonText() {
  }

  /** Appends {@code text} as a quoted JSON string; returns {@code sb}. */
  public static StringBuilder quoted(StringBuilder sb, String text) {
    sb.append('"');
    QUOTE.quoteAsString(text, sb);
    return sb.append('"');
  }
}
