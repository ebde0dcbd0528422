package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Tool calls in OpenAI's response shapes: {@code message.tool_calls} and {@code delta.tool_calls}. */
final class ToolCallJson {

  private ToolCallJson() {
  }

  /** Whole calls: [{id, type: "function", function: {name, arguments}}]. */
  static JsonArray calls(List<ToolCall> calls) {
    JsonArray out = new JsonArray();
    for (ToolCall c : calls) {
      out.add(new JsonObject().put("id", c.id()).put("type", "function")
          .put("function", new JsonObject().put("name", c.name()).put("arguments", c.arguments())));
    }
    return out;
  }

  /**
   * Streamed pieces: each with its index; a call's first piece with id, type and name (arguments ""
   * or what came with it), later ones only {@code function.arguments}.
   */
  static JsonArray pieces(List<ToolCallDelta> pieces) {
    JsonArray out = new JsonArray();
    for (ToolCallDelta d : pieces) {
      JsonObject function = new JsonObject();
      JsonObject piece = new JsonObject().put("index", d.index());
      if (d.id() != null) {
        piece.put("id", d.id()).put("type", "function");
      }
      if (d.name() != null) {
        function.put("name", d.name());
      }
      function.put("arguments", d.arguments() == null ? "" : d.arguments());
      out.add(piece.put("function", function));
    }
    return out;
  }
}
