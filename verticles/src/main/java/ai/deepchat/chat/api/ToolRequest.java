package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The tool fields of an OpenAI chat completion request, validated: {@code tools},
 * {@code tool_choice}, {@code parallel_tool_calls}, and the tool parts of messages (an assistant's
 * {@code tool_calls}, a {@code tool} message's {@code tool_call_id}). Every refusal names its field.
 *
 * @param offered    the tools the model sees (null when none, or when tool_choice is "none")
 * @param constraint the forced call for tool_choice "required" or a named function, else null
 */
record ToolRequest(List<ToolSpec> offered, OutputConstraint constraint) {

  /** OpenAI's own limit. */
  static final int MAX_TOOLS = 128;
  static final int MAX_CALLS_PER_MESSAGE = 128;
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  static ToolRequest parse(JsonObject body) {
    List<ToolSpec> tools = tools(body.getValue("tools"));
    Object parallel = body.getValue("parallel_tool_calls");
    if (parallel != null && !(parallel instanceof Boolean)) {
      throw bad("parallel_tool_calls", "'parallel_tool_calls' must be true or false.");
    }
    boolean parallelCalls = parallel == null || (Boolean) parallel;
    Object choice = body.getValue("tool_choice");
    if (choice == null) {
      return new ToolRequest(tools.isEmpty() ? null : tools, null);
    }
    if ("none".equals(choice)) {
      return new ToolRequest(null, null);
    }
    if (tools.isEmpty()) {
      throw bad("tool_choice", "'tool_choice' is only allowed when 'tools' are specified.");
    }
    if ("auto".equals(choice)) {
      return new ToolRequest(tools, null);
    }
    if ("required".equals(choice)) {
      return new ToolRequest(tools, OutputConstraint.toolCalls(tools, parallelCalls));
    }
    if (choice instanceof JsonObject named && "function".equals(named.getValue("type"))
        && named.getValue("function") instanceof JsonObject function && function.getValue("name") instanceof String name) {
      ToolSpec tool = tools.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() ->
          bad("tool_choice", "'tool_choice' names the function '" + clip(name) + "', which is not among 'tools'."));
      // OpenAI calls a forced function exactly once, whatever parallel_tool_calls says.
      return new ToolRequest(tools, OutputConstraint.toolCalls(List.of(tool), false));
    }
    throw bad("tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or "
        + "{\"type\": \"function\", \"function\": {\"name\": ...}}.");
  }

  private static List<ToolSpec> tools(Object value) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray arr)) {
      throw bad("tools", "'tools' must be an array of {type: \"function\", function: {...}}.");
    }
    if (arr.size() > MAX_TOOLS) {
      throw bad("tools", "At most " + MAX_TOOLS + " tools per request.");
    }
    Map<String, ToolSpec> byName = new LinkedHashMap<>();
    for (int i = 0; i < arr.size(); i++) {
      String at = "tools[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject t) || !"function".equals(t.getValue("type"))
          || !(t.getValue("function") instanceof JsonObject f)) {
        throw bad("tools", at + " must be {type: \"function\", function: {name, description, parameters}}.");
      }
      if (!(f.getValue("name") instanceof String name) || !NAME.matcher(name).matches()) {
        throw bad("tools", at + ".function.name must be 1 to 64 letters, digits, '_' or '-'.");
      }
      Object description = f.getValue("description");
      if (description != null && !(description instanceof String)) {
        throw bad("tools", at + ".function.description must be a string.");
      }
      Object parameters = f.getValue("parameters");
      if (parameters != null && !(parameters instanceof JsonObject)) {
        throw bad("tools", at + ".function.parameters must be a JSON Schema object.");
      }
      Object strict = f.getValue("strict");
      if (strict != null && !(strict instanceof Boolean)) {
        throw bad("tools", at + ".function.strict must be true or false.");
      }
      if (byName.containsKey(name)) {
        throw bad("tools", at + ": the function name '" + name + "' is used twice.");
      }
      byName.put(name, new ToolSpec(name, (String) description,
          parameters == null ? null : ((JsonObject) parameters).encode()));
    }
    return List.copyOf(byName.values());
  }

  /** An assistant message's {@code tool_calls} (null: none). */
  static List<ToolCall> calls(Object value, int i) {
    if (value == null) {
      return null;
    }
    String at = "messages[" + i + "].tool_calls";
    if (!(value instanceof JsonArray arr) || arr.size() > MAX_CALLS_PER_MESSAGE) {
      throw bad("messages", at + " must be an array of at most " + MAX_CALLS_PER_MESSAGE + " calls.");
    }
    List<ToolCall> calls = new ArrayList<>();
    for (int c = 0; c < arr.size(); c++) {
      if (!(arr.getValue(c) instanceof JsonObject call) || !(call.getValue("id") instanceof String id)
          || id.isEmpty() || id.length() > 200
          || (call.getValue("type") != null && !"function".equals(call.getValue("type")))
          || !(call.getValue("function") instanceof JsonObject f)
          || !(f.getValue("name") instanceof String name) || !NAME.matcher(name).matches()
          || !(f.getValue("arguments") instanceof String arguments)) {
        throw bad("messages", at + "[" + c + "] must be {id, type: \"function\", function: {name, arguments}} "
            + "with arguments a JSON string.");
      }
      calls.add(new ToolCall(id, name, arguments));
    }
    return calls.isEmpty() ? null : List.copyOf(calls);
  }

  /** Every tool message answers a call some earlier assistant message made. */
  static void checkResults(List<ChatMessage> messages) {
    Set<String> made = new HashSet<>();
    for (int i = 0; i < messages.size(); i++) {
      ChatMessage m = messages.get(i);
      if (m.toolCalls() != null) {
        m.toolCalls().forEach(c -> made.add(c.id()));
      }
      if (m.role().equals("tool") && !made.contains(m.toolCallId())) {
        throw bad("messages", "messages[" + i + "].tool_call_id '" + clip(m.toolCallId())
            + "' answers no tool call of an earlier assistant message.");
      }
    }
  }

  private static String clip(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "…" : s;
  }

  private static HttpProblem bad(String field, String message) {
    return HttpProblem.badRequest("invalid_" + field, message);
  }
}
