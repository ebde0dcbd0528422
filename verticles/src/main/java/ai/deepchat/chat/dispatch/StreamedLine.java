package ai.deepchat.chat.dispatch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the common line of a streamed chat completion, a text delta ({@code choices[0].delta.content} or
 * reasoning, a finish reason), with one pass of Jackson's streaming parser over its bytes: no string of
 * the line and no JSON tree per token. Anything else (tool calls, log-probabilities, usage, an error, several
 * choices, nested values it does not know, malformed JSON, non-ASCII space around the line) reads as
 * {@code null}: the caller's general path, which builds the tree, takes the line as before. So this only
 * makes the common line cheaper; it never decides anything the general path would decide otherwise.
 */
final class StreamedLine {

  /** What a line says: nothing ({@link Kind#SKIP}), the end ({@link Kind#DONE}), or a text delta. */
  enum Kind { SKIP, DONE, TEXT }

  /** {@code content} and {@code reasoning} as the delta had them (null: absent), {@code finishReason} likewise. */
  record Read(Kind kind, String content, String reasoning, String finishReason) {
  }

  static final Read SKIP = new Read(Kind.SKIP, null, null, null);
  static final Read DONE = new Read(Kind.DONE, null, null, null);

  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] DATA = {'d', 'a', 't', 'a', ':'};
  private static final byte[] DONE_MARK = {'[', 'D', 'O', 'N', 'E', ']'};

  private StreamedLine() {
  }

  /** The line read, or null when only the general path may read it. */
  static Read read(Buffer line) {
    byte[] b = line.getBytes();
    return read(b, 0, b.length);
  }

  /** The line in bytes {@code [from, to)} of {@code b} read, or null when only the general path may read it. */
  static Read read(byte[] b, int from, int to) {
    return read(b, from, to, null);
  }

  /** As {@link #read(byte[], int, int)}; {@code spot}, when given, learns where a text delta's content string lies. */
  private static Read read(byte[] b, int from, int to, Spot spot) {
    while (from < to && isSpace(b[from])) {
      from++;
    }
    while (to > from && isSpace(b[to - 1])) {
      to--;
    }
    if (from < to && (b[from] < 0 || b[to - 1] < 0)) {
      return null; // maybe a Unicode space, which the general path strips
    }
    if (!startsWith(b, from, to, DATA)) {
      return SKIP; // comments (": keep-alive"), event names, blank separators
    }
    from += DATA.length;
    while (from < to && isSpace(b[from])) {
      from++;
    }
    if (to - from == DONE_MARK.length && startsWith(b, from, to, DONE_MARK)) {
      return DONE;
    }
    try (JsonParser p = JSON.createParser(b, from, to - from)) {
      return chunk(p, spot);
    } catch (IOException e) {
      return null; // malformed: the general path says so
    }
  }

  private static Read chunk(JsonParser p, Spot spot) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      return null;
    }
    Read choice = new Read(Kind.TEXT, null, null, null);
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("choices")) {
        choice = choices(p, value, spot);
        if (choice == null) {
          return null;
        }
      } else if (!value.isScalarValue() || value != JsonToken.VALUE_NULL && (name.equals("usage") || name.equals("error"))) {
        return null;
      }
    }
    return p.currentToken() == JsonToken.END_OBJECT && p.nextToken() == null ? choice : null;
  }

  /** The first of at most one choice: its delta's texts and its finish reason. */
  private static Read choices(JsonParser p, JsonToken value, Spot spot) throws IOException {
    if (value != JsonToken.START_ARRAY) {
      return null;
    }
    JsonToken first = p.nextToken();
    if (first == JsonToken.END_ARRAY) {
      return new Read(Kind.TEXT, null, null, null);
    }
    if (first != JsonToken.START_OBJECT) {
      return null;
    }
    String content = null;
    String reasoningContent = null;
    boolean hasReasoningContent = false;
    String reasoning = null;
    String finishReason = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("delta") && v == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken t = p.nextToken();
          if (t != JsonToken.VALUE_STRING && t != JsonToken.VALUE_NULL
              || t != JsonToken.VALUE_NULL && (field.equals("tool_calls") || field.equals("function_call"))) {
            return null;
          }
          long start = t == JsonToken.VALUE_STRING && spot != null ? p.currentTokenLocation().getByteOffset() : -1;
          String text = t == JsonToken.VALUE_NULL ? null : p.getText();
          switch (field) {
            case "content" -> {
              content = text;
              if (spot != null) {
                spot.contents++;
                spot.start = start;
                spot.end = start < 0 ? -1 : p.currentLocation().getByteOffset();
              }
            }
            case "reasoning_content" -> {
              reasoningContent = text;
              hasReasoningContent = true;
            }
            case "reasoning" -> reasoning = text;
            default -> { } // role
          }
        }
      } else if (name.equals("finish_reason") && (v == JsonToken.VALUE_STRING || v == JsonToken.VALUE_NULL)) {
        finishReason = v == JsonToken.VALUE_NULL ? null : p.getText();
      } else if (!v.isScalarValue() && v != JsonToken.VALUE_NULL || name.equals("delta") || name.equals("finish_reason")
          || name.equals("logprobs") && v != JsonToken.VALUE_NULL) {
        return null;
      }
    }
    if (p.nextToken() != JsonToken.END_ARRAY) {
      return null; // more choices: the general path reads the first as it always did
    }
    // DeepSeek's API and older vLLM say reasoning_content, newer vLLM says reasoning (present wins, as in the tree)
    return new Read(Kind.TEXT, content, hasReasoningContent ? reasoningContent : reasoning, finishReason);
  }

  /** Where the content string of a line lay (byte offsets from the line's JSON start; -1: unknown), and how many there were. */
  private static final class Spot {
    int contents;
    long start = -1;
    long end = -1;
  }

  /**
   * Reads one stream's lines, taking the common case cheaper still: an endpoint sends each token as the same
   * bytes but for the content string (OpenAI's, DeepSeek's and vLLM's chunks repeat id, created and model).
   * After a text delta read by Jackson, the bytes before and after its content string are kept; a later line
   * made of exactly those bytes around a plain string (printable ASCII, no quote or backslash) is read by
   * comparing them, as Jackson would have read it: the same bytes around another plain string parse the same
   * way. Anything else goes through {@link StreamedLine#read(byte[], int, int)}; a text delta read there becomes
   * the new model, other lines (the blank line after each event, a usage chunk) leave the model as it is.
   * One per stream, used on the stream's context only.
   */
  static final class Reader {
    private byte[] before;
    private byte[] after;
    private long modelledReads;

    /** As {@link StreamedLine#read(byte[], int, int)}. */
    Read read(byte[] b, int from, int to) {
      if (before != null && to - from > before.length + after.length
          && Arrays.equals(b, from, from + before.length, before, 0, before.length)
          && Arrays.equals(b, to - after.length, to, after, 0, after.length)) {
        int s = from + before.length;
        int e = to - after.length;
        if (plain(b, s, e)) {
          modelledReads++;
          return new Read(Kind.TEXT, new String(b, s, e - s, StandardCharsets.ISO_8859_1), null, null);
        }
      }
      Spot spot = new Spot();
      Read read = StreamedLine.read(b, from, to, spot);
      learn(b, from, to, read, spot);
      return read;
    }

    /** How many lines were read by comparing with the model (for tests). */
    long modelledReads() {
      return modelledReads;
    }

    /** Keeps this line as the model if it can be one; else the model stays (it is only bytes: any model is exact). */
    private void learn(byte[] b, int from, int to, Read read, Spot spot) {
      if (read == null || read.kind() != Kind.TEXT || read.content() == null || read.reasoning() != null
          || read.finishReason() != null || spot.contents != 1 || spot.start < 0) {
        return;
      }
      int json = jsonStart(b, from, to);
      int s = json + (int) spot.start; // the opening quote
      int e = json + (int) spot.end; // after the closing quote
      if (json < 0 || s < from || e > to || e - s < 2 || b[s] != '"' || b[e - 1] != '"' || !plain(b, s + 1, e - 1)) {
        return; // an escape in the string, or offsets not where they should be
      }
      before = Arrays.copyOfRange(b, from, s + 1);
      after = Arrays.copyOfRange(b, e - 1, to);
    }

    /** Printable ASCII without quote or backslash: the string's bytes are its characters. */
    private static boolean plain(byte[] b, int from, int to) {
      for (int i = from; i < to; i++) {
        byte c = b[i];
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) { // negative: not ASCII
          return false;
        }
      }
      return true;
    }

    /** Where the JSON of a data line starts (as {@link StreamedLine#read} finds it), -1 if not a data line. */
    private static int jsonStart(byte[] b, int from, int to) {
      while (from < to && isSpace(b[from])) {
        from++;
      }
      if (!startsWith(b, from, to, DATA)) {
        return -1;
      }
      from += DATA.length;
      while (from < to && isSpace(b[from])) {
        from++;
      }
      return from;
    }
  }

  private static boolean startsWith(byte[] b, int from, int to, byte[] prefix) {
    if (to - from < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[from + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B
        || c >= 0x1C && c <= 0x1F; // what String.strip also removes in ASCII
  }
}
