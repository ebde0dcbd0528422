package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Tools in an OpenAI-compatible endpoint's request, and its streamed tool calls back as call pieces. */
final class RemoteTools {

  private RemoteTools() {
  }

  /** A message in OpenAI's shape, tool calls and the answered call's id included. */
  static JsonObject message(ChatMessage m) {
    JsonObject out = new JsonObject().put("role", m.role()).put("content", m.content());
    if (m.imageUrl() != null) {
      // OpenAI's vision form: the text and the picture as content parts
      out.put("content", new JsonArray()
          .add(new JsonObject().put("type", "text").put("text", m.content() == null ? "" : m.content()))
          .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", m.imageUrl()))));
    }
    if (m.toolCalls() != null && !m.toolCalls().isEmpty()) {
      JsonArray calls = new JsonArray();
      for (ToolCall c : m.toolCalls()) {
        calls.add(new JsonObject().put("id", c.id()).put("type", "function")
            .put("function", new JsonObject().put("name", c.name()).put("arguments", c.arguments())));
      }
      out.put("tool_calls", calls);
      if (m.content() == null || m.content().isEmpty()) {
        out.putNull("content");
      }
    }
    if (m.toolCallId() != null) {
      out.put("tool_call_id", m.toolCallId());
    }
    return out;
  }

  /**
   * {@code tools} (none: nothing added) and the choice: a forced call to one tool names it, to any of
   * several is "required", none forced is "auto".
   */
  static void offer(JsonObject body, List<ToolSpec> tools, OutputConstraint constraint) {
    if (tools == null || tools.isEmpty()) {
      return;
    }
    JsonArray list = new JsonArray();
    for (ToolSpec t : tools) {
      JsonObject function = new JsonObject().put("name", t.name());
      if (t.description() != null) {
        function.put("description", t.description());
      }
      if (t.parametersJson() != null) {
        function.put("parameters", new JsonObject(t.parametersJson()));
      }
      list.add(new JsonObject().put("type", "function").put("function", function));
    }
    body.put("tools", list);
    if (constraint != null && constraint.kind() == OutputConstraint.Kind.TOOL_CALLS) {
      body.put("tool_choice", constraint.tools().size() == 1
          ? new JsonObject().put("type", "function").put("function", new JsonObject().put("name",
          constraint.tools().get(0).name()))
          : "required");
      body.put("parallel_tool_calls", constraint.parallel());
    } else {
      body.put("tool_choice", "auto");
    }
  }

  /**
   * The endpoint's streamed {@code delta.tool_calls} as call pieces, numbered from 0 in the order the
   * calls begin; a call to a tool not offered (or without a name) is dropped with all its pieces.
   */
  static final class Calls {
    private final Set<String> offered;
    private final Map<Integer, Integer> indexes = new HashMap<>();
    private final Set<Integer> droppedIndexes = new java.util.HashSet<>();
    private boolean dropped;

    Calls(List<ToolSpec> tools) {
      this.offered = tools == null ? Set.of() : tools.stream().map(ToolSpec::name).collect(Collectors.toSet());
    }

    List<ToolCallDelta> accept(Object value) {
      if (!(value instanceof JsonArray arr)) {
        return List.of();
      }
      List<ToolCallDelta> out = new ArrayList<>(arr.size());
      for (int i = 0; i < arr.size(); i++) {
        if (!(arr.getValue(i) instanceof JsonObject call)) {
          continue;
        }
        int upstream = call.getValue("index") instanceof Number n ? n.intValue() : i;
        JsonObject function = call.getValue("function") instanceof JsonObject f ? f : new JsonObject();
        String arguments = function.getValue("arguments") instanceof String a ? a : "";
        Integer ours = indexes.get(upstream);
        if (ours == null) {
          if (droppedIndexes.contains(upstream)) {
            continue;
          }
          String name = function.getValue("name") instanceof String s ? s : null;
          if (name == null || !offered.contains(name)) {
            droppedIndexes.add(upstream);
            dropped = true;
            continue;
          }
          ours = indexes.size();
          indexes.put(upstream, ours);
          String id = call.getValue("id") instanceof String s && !s.isEmpty() ? s : "call_" + java.util.UUID.randomUUID()
              .toString().replace("-", "").substring(0, 24);
          out.add(new ToolCallDelta(ours, id, name, arguments));
        } else if (!arguments.isEmpty()) {
          out.add(new ToolCallDelta(ours, null, null, arguments));
        }
      }
      return out;
    }

    /** Whether a call has been dropped so far. */
    boolean dropped() {
      return dropped;
    }

    /** No call passed. */
    boolean none() {
      return indexes.isEmpty();
    }
  }
}
