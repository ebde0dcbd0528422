package ai.deepchat.tokenizer.template;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Platform chat messages as the maps HF chat templates read (OpenAI's message shape). */
final class ChatMaps {

  private ChatMaps() {
  }

  static Map<String, Object> of(ChatMessage m) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("role", m.role());
    boolean calls = m.toolCalls() != null && !m.toolCalls().isEmpty();
    map.put("content", calls && (m.content() == null || m.content().isEmpty()) ? null : m.content());
    if (calls) {
      List<Map<String, Object>> list = new ArrayList<>(m.toolCalls().size());
      for (ToolCall c : m.toolCalls()) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", c.name());
        function.put("arguments", c.arguments());
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", c.id());
        call.put("type", "function");
        call.put("function", function);
        list.add(call);
      }
      map.put("tool_calls", list);
    }
    if (m.toolCallId() != null) {
      map.put("tool_call_id", m.toolCallId());
    }
    return map;
  }

  /**
   * Appends {@code text} to the system prompt as a template joins it: to the last system message, or
   * as a first system message when there is none.
   */
  static void appendToSystemPrompt(List<Map<String, Object>> maps, String text) {
    for (int i = maps.size() - 1; i >= 0; i--) {
      Map<String, Object> m = maps.get(i);
      if ("system".equals(m.get("role"))) {
        m.put("content", m.get("content") + text);
        return;
      }
    }
    Map<String, Object> system = new LinkedHashMap<>();
    system.put("role", "system");
    system.put("content", text);
    maps.add(0, system);
  }
}
