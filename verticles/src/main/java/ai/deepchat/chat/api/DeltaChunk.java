package ai.deepchat.chat.api;

import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The SSE line of one delta event of a streamed completion, written straight into one builder: the
 * stream's pre-encoded envelope, the texts quoted by {@link JsonText} (so the bytes are those
 * {@link JsonObject#encode()} gave), no JSON tree per delta (#25). Tool-call
 * pieces, rare and nested, still go through a tree.
 */
final class DeltaChunk {

  private DeltaChunk() {
  }

  /** {@code deltaPrefix}: the chunk up to {@code "delta":}; the rest is the delta, log-probabilities and the end. */
  static String sse(String deltaPrefix, TurnEvent event) {
    StringBuilder sb = new StringBuilder(deltaPrefix.length() + 64 + length(event.content()) + 2 * length(event.reasoning()));
    sb.append(deltaPrefix);
    if (event.toolCalls() != null && !event.toolCalls().isEmpty()) {
      JsonObject delta = new JsonObject();
      if (event.content() != null) {
        delta.put("content", event.content());
      }
      if (event.reasoning() != null) {
        delta.put("reasoning_content", event.reasoning()).put("reasoning", event.reasoning());
      }
      sb.append(delta.put("tool_calls", ToolCallJson.pieces(event.toolCalls())).encode());
    } else {
      char sep = '{';
      if (event.content() != null) {
        JsonText.quoted(sb.append(sep).append("\"content\":"), event.content());
        sep = ',';
      }
      if (event.reasoning() != null) {
        // both names: vLLM renamed reasoning_content to reasoning, and clients read either
        JsonText.quoted(sb.append(sep).append("\"reasoning_content\":"), event.reasoning());
        JsonText.quoted(sb.append(",\"reasoning\":"), event.reasoning());
        sep = ',';
      }
      sb.append(sep == '{' ? "{}" : "}");
    }
    if (event.logprobs() != null && !event.logprobs().isEmpty()) {
      sb.append(",\"logprobs\":").append(LogprobsJson.content(event.logprobs()).encode());
    }
    return sb.append(",\"finish_reason\":null}]}\n\n").toString();
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  /**
   * One stream's delta chunks as UTF-8 bytes in an array it reuses: the prefix encoded once, the texts encoded
   * straight into the array, no builder, string or second copy per delta (#25). Only texts whose JSON form is
   * the text itself (no quote, backslash, control character or surrogate) take this way; any other delta, and
   * one with log-probabilities or tool-call pieces, is {@link #sse}'s string encoded, so the bytes are always
   * those of {@code sse(...).getBytes(UTF_8)}. Used on the stream's context only.
   */
  static final class Bytes {
    private static final byte[] SUFFIX = ",\"finish_reason\":null}]}\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CONTENT = "{\"content\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] REASONING_CONTENT = "\"reasoning_content\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] REASONING = ",\"reasoning\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] COMMA = {','};
    private static final byte[] OPEN = {'{'};
    private static final byte[] CLOSE = {'}'};

    private final String deltaPrefix;
    private final byte[] prefix;
    private byte[] buf;
    private int length;

    Bytes(String deltaPrefix) {
      this.deltaPrefix = deltaPrefix;
      this.prefix = deltaPrefix.getBytes(StandardCharsets.UTF_8);
      this.buf = new byte[prefix.length + 256];
      System.arraycopy(prefix, 0, buf, 0, prefix.length);
    }

    /** {@code event}'s chunk in the returned array (valid until the next call), {@link #length()} bytes of it. */
    byte[] encode(TurnEvent event) {
      boolean plain = (event.toolCalls() == null || event.toolCalls().isEmpty())
          && (event.logprobs() == null || event.logprobs().isEmpty())
          && (event.content() != null || event.reasoning() != null)
          && plain(event.content()) && plain(event.reasoning());
      if (!plain) {
        byte[] whole = sse(deltaPrefix, event).getBytes(StandardCharsets.UTF_8);
        length = whole.length;
        return whole;
      }
      int n = prefix.length; // the prefix stays at the start of buf
      if (event.content() != null) {
        n = quoted(put(n, CONTENT), event.content());
        if (event.reasoning() != null) {
          n = put(n, COMMA);
        }
      } else {
        n = put(n, OPEN);
      }
      if (event.reasoning() != null) {
        n = quoted(put(n, REASONING_CONTENT), event.reasoning());
        n = quoted(put(n, REASONING), event.reasoning());
      }
      n = put(n, CLOSE);
      length = put(n, SUFFIX);
      return buf;
    }

    int length() {
      return length;
    }

    /** Null, or a text JSON writes as it is: no quote, backslash, control character or surrogate. */
    private static boolean plain(String s) {
      if (s == null) {
        return true;
      }
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0x20 || c == '"' || c == '\\' || Character.isSurrogate(c)) {
          return false;
        }
      }
      return true;
    }

    private int put(int at, byte[] bytes) {
      room(at, bytes.length);
      System.arraycopy(bytes, 0, buf, at, bytes.length);
      return at + bytes.length;
    }

    /** {@code s} (plain) quoted, in UTF-8 (at most 3 bytes a char: no surrogates here). */
    private int quoted(int at, String s) {
      room(at, 3 * s.length() + 2);
      byte[] b = buf;
      b[at++] = '"';
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          b[at++] = (byte) c;
        } else if (c < 0x800) {
          b[at++] = (byte) (0xc0 | c >> 6);
          b[at++] = (byte) (0x80 | c & 0x3f);
        } else {
          b[at++] = (byte) (0xe0 | c >> 12);
          b[at++] = (byte) (0x80 | c >> 6 & 0x3f);
          b[at++] = (byte) (0x80 | c & 0x3f);
        }
      }
      b[at++] = '"';
      return at;
    }

    private void room(int at, int more) {
      if (buf.length - at < more) {
        buf = Arrays.copyOf(buf, Math.max(2 * buf.length, at + more));
      }
    }
  }
}
