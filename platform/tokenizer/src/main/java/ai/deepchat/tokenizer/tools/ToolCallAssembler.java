package ai.deepchat.tokenizer.tools;

import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;

import java.util.ArrayList;
import java.util.List;

/**
 * Streamed tool-call pieces put back together, as an OpenAI client does: a piece with a new index
 * opens a call (its id and name), later pieces append to that call's arguments. Not thread-safe.
 */
public final class ToolCallAssembler {

  private final List<String> ids = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private final List<StringBuilder> arguments = new ArrayList<>();

  public void accept(List<ToolCallDelta> pieces) {
    if (pieces == null) {
      return;
    }
    for (ToolCallDelta d : pieces) {
      while (ids.size() <= d.index()) {
        ids.add(null);
        names.add(null);
        arguments.add(new StringBuilder());
      }
      if (d.id() != null) {
        ids.set(d.index(), d.id());
      }
      if (d.name() != null) {
        names.set(d.index(), d.name());
      }
      if (d.arguments() != null) {
        arguments.get(d.index()).append(d.arguments());
      }
    }
  }

  public boolean isEmpty() {
    return ids.isEmpty();
  }

  /** The calls so far, in index order. */
  public List<ToolCall> calls() {
    List<ToolCall> out = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      out.add(new ToolCall(ids.get(i), names.get(i), arguments.get(i).toString()));
    }
    return out;
  }

  /** Each call as one whole piece: what a client that was sent nothing yet needs. */
  public static List<ToolCallDelta> asPieces(List<ToolCall> calls) {
    List<ToolCallDelta> out = new ArrayList<>(calls.size());
    for (int i = 0; i < calls.size(); i++) {
      ToolCall c = calls.get(i);
      out.add(new ToolCallDelta(i, c.id(), c.name(), c.arguments()));
    }
    return out;
  }
}
