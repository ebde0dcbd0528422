package ai.deepchat.chat.conversation;

import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** An answer's tool calls in the messages.tool_calls column: [{id, name, arguments}], null when none. */
final class StoredToolCalls {

  private StoredToolCalls() {
  }

  static JsonArray toJson(List<ToolCall> calls) {
    if (calls == null || calls.isEmpty()) {
      return null;
    }
    JsonArray out = new JsonArray();
    for (ToolCall c : calls) {
      out.add(new JsonObject().put("id", c.id()).put("name", c.name()).put("arguments", c.arguments()));
    }
    return out;
  }

  static List<ToolCall> fromJson(JsonArray stored) {
    if (stored == null) {
      return List.of();
    }
    List<ToolCall> out = new ArrayList<>(stored.size());
    for (int i = 0; i < stored.size(); i++) {
      JsonObject c = stored.getJsonObject(i);
      out.add(new ToolCall(c.getString("id"), c.getString("name"), c.getString("arguments")));
    }
    return List.copyOf(out);
  }
}
