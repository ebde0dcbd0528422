package ai.deepchat.tokenizer.tools;

import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Parses DeepSeek-V3's tool-call block as it streams:
 * {@code <｜tool▁calls▁begin｜>} then per call {@code <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>}
 * (calls separated by a newline), then {@code <｜tool▁calls▁end｜>}. The markers arrive as ids
 * ({@link #marker}), everything else as decoded text ({@link #text}); out come OpenAI call pieces: the
 * first piece of a call carries its id, name and empty arguments, the next ones argument fragments.
 * The closing fence is held back until it is known not to be part of the arguments, so no marker or
 * fence ever reaches the arguments.
 *
 * <p>Lenient where models slip, strict about what leaks: a call opened without the block marker
 * still parses; a call missing its fence takes the text as arguments; text between calls and after the
 * block is dropped. A block cut short (max_tokens) keeps the pieces already produced, so a client
 * sees the same calls streamed or whole; the last call's arguments may then be incomplete JSON, with
 * finish reason "length" (as OpenAI does). A call cut before its name ended produces nothing, and so
 * does a call to a tool that was not offered: the model can only call what the caller offered.
 * Not thread-safe: one per generation.
 */
public final class ToolCallParser {

  private static final String FENCE_CLOSE = "\n```";

  private enum State { OUTSIDE, BETWEEN, TYPE, NAME, FENCE, ARGS, SKIP, ENDED }

  private final ToolCallMarkers markers;
  private final Set<String> offered;
  private final StringBuilder buf = new StringBuilder();
  private State state = State.OUTSIDE;
  private int index = -1;

  /** {@code offered}: the names of the tools the model may call (empty: none; its calls are dropped). */
  public ToolCallParser(ToolCallMarkers markers, Set<String> offered) {
    this.markers = markers;
    this.offered = Set.copyOf(offered);
  }

  public boolean isMarker(int id) {
    return markers.isMarker(id);
  }

  /** Whether the block has begun: from then on the output is tool calls, never content. */
  public boolean inBlock() {
    return state != State.OUTSIDE;
  }

  /** How many calls have begun (their first piece produced). */
  public int calls() {
    return index + 1;
  }

  /** One marker id; returns the pieces it completes. */
  public List<ToolCallDelta> marker(int id) {
    List<ToolCallDelta> out = new ArrayList<>(1);
    if (id == markers.callsBegin()) {
      if (state == State.OUTSIDE) {
        state = State.BETWEEN;
      }
    } else if (id == markers.callBegin()) {
      if (state != State.ENDED) {
        endCall(out);
        state = State.TYPE;
        buf.setLength(0);
      }
    } else if (id == markers.sep()) {
      if (state == State.TYPE) {
        state = State.NAME;
        buf.setLength(0);
      }
    } else if (id == markers.callEnd()) {
      endCall(out);
      if (state != State.OUTSIDE && state != State.ENDED) {
        state = State.BETWEEN;
      }
    } else if (id == markers.callsEnd()) {
      endCall(out);
      state = State.ENDED;
    }
    return out;
  }

  /** Decoded text inside the block; returns the pieces it completes. */
  public List<ToolCallDelta> text(String text) {
    List<ToolCallDelta> out = new ArrayList<>(1);
    if (text.isEmpty()) {
      return out;
    }
    switch (state) {
      case TYPE -> buf.append(text); // "function", the only type DeepSeek writes
      case NAME -> {
        buf.append(text);
        int nl = buf.indexOf("\n");
        if (nl >= 0) {
          String name = buf.substring(0, nl).strip();
          buf.delete(0, nl + 1);
          if (!offered.contains(name)) {
            state = State.SKIP;
            buf.setLength(0);
            return out;
          }
          startCall(name, out);
          state = State.FENCE;
          fence("", out);
        }
      }
      case FENCE -> fence(text, out);
      case ARGS -> args(text, out);
      default -> {
        // between calls (a newline) or after the block: nothing a client should see
      }
    }
    return out;
  }

  /** The generation ended (end of sequence or length): an unfinished call keeps what it produced. */
  public List<ToolCallDelta> finish() {
    if (state == State.ARGS) {
      int cut = buf.indexOf(FENCE_CLOSE);
      String rest = cut >= 0 ? buf.substring(0, cut) : buf.substring(0, buf.length() - heldBack(buf));
      buf.setLength(0);
      return rest.isEmpty() ? List.of() : List.of(new ToolCallDelta(index, null, null, rest));
    }
    return List.of();
  }

  private void startCall(String name, List<ToolCallDelta> out) {
    index++;
    out.add(new ToolCallDelta(index, "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
        name, ""));
  }

  /** After the name: skips the opening fence (```json and its newline), then the arguments begin. */
  private void fence(String text, List<ToolCallDelta> out) {
    buf.append(text);
    // jump over whitespace before the fence, then wait until its line is complete
    int start = 0;
    while (start < buf.length() && buf.charAt(start) == ' ') {
      start++;
    }
    if (start == buf.length()) {
      return;
    }
    if (buf.indexOf("```", start) == start || "```".startsWith(buf.substring(start))) {
      int nl = buf.indexOf("\n", start);
      if (nl < 0) {
        return;
      }
      start = nl + 1;
    }
    String rest = buf.substring(start);
    buf.setLength(0);
    state = State.ARGS;
    args(rest, out);
  }

  /** Argument text: sent on, except a tail that may be the start of the closing fence. */
  private void args(String text, List<ToolCallDelta> out) {
    buf.append(text);
    int cut = buf.indexOf(FENCE_CLOSE);
    int send = cut >= 0 ? cut : buf.length() - heldBack(buf);
    if (send > 0) {
      out.add(new ToolCallDelta(index, null, null, buf.substring(0, send)));
      buf.delete(0, send);
    }
  }

  /** The call's end marker (or a next call, or the block's end): what was held back goes out, fence cut. */
  private void endCall(List<ToolCallDelta> out) {
    switch (state) {
      case NAME -> {
        String name = buf.toString().strip();
        if (offered.contains(name)) {
          startCall(name, out);
        }
      }
      case FENCE -> {
        String rest = buf.toString().strip();
        if (!rest.isEmpty() && !rest.startsWith("```")) {
          out.add(new ToolCallDelta(index, null, null, rest));
        }
      }
      case ARGS -> {
        int cut = buf.indexOf(FENCE_CLOSE);
        String rest = cut >= 0 ? buf.substring(0, cut) : stripFence(buf.toString());
        if (!rest.isEmpty()) {
          out.add(new ToolCallDelta(index, null, null, rest));
        }
      }
      default -> {
        return;
      }
    }
    buf.setLength(0);
  }

  private static String stripFence(String s) {
    String t = s.stripTrailing();
    return t.endsWith("```") ? t.substring(0, t.length() - 3).stripTrailing() : s;
  }

  /** Length of the longest tail of {@code s} that is a proper start of the closing fence. */
  private static int heldBack(CharSequence s) {
    for (int k = Math.min(FENCE_CLOSE.length() - 1, s.length()); k > 0; k--) {
      if (FENCE_CLOSE.regionMatches(0, s.toString(), s.length() - k, k)) {
        return k;
      }
    }
    return 0;
  }
}
