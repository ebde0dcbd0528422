package ai.deepchat.tokenizer.tools;

import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tool definitions as DeepSeek-V3 checkpoints read them. Their official chat template renders tool
 * calls and tool results but not the definitions, so the definitions go at the end of the system
 * prompt in the layout vLLM's DeepSeek-V3 tool template uses (written here as our own): a "# Tools"
 * section listing each tool as OpenAI's {@code {"type": "function", "function": {...}}} JSON between
 * {@code <tools>} tags, then the call format with DeepSeek's markers. The markers in it are encoded as
 * the marker tokens, as in vLLM's prompt.
 */
public final class DeepSeekToolPrompt {

  /** Keeps the schema's key order (LinkedHashMap), as Python's json.loads does. */
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private DeepSeekToolPrompt() {
  }

  /** The section appended to the system prompt; {@code toolJson}: each tool as Python-style JSON text. */
  public static String section(List<String> toolJson) {
    StringBuilder sb = new StringBuilder("\n\n# Tools\n\nYou may call one or more functions to assist with the user query."
        + "\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>");
    for (String tool : toolJson) {
      sb.append('\n').append(tool);
    }
    return sb.append("\n</tools>\n\n")
        .append("For function call returns, you should first print ").append(ToolCallMarkers.CALLS_BEGIN)
        .append("For each function call, you should return object like:\n")
        .append(ToolCallMarkers.CALL_BEGIN).append("function").append(ToolCallMarkers.SEP)
        .append("<function_name>\n```json\n<function_arguments_in_json_format>\n```").append(ToolCallMarkers.CALL_END)
        .append("At the end of function call returns, you should print ").append(ToolCallMarkers.CALLS_END)
        .append("<｜end▁of▁sentence｜>")
        .toString();
  }

  /** Whether a template renders tool definitions itself (it reads the {@code tools} variable). */
  public static boolean templateRendersTools(String templateSource) {
    return templateSource.matches("(?s).*\\{[%{][^}]*\\btools\\b.*");
  }

  /**
   * The tool as OpenAI sends it ({@code type}, then {@code function} with name, description and
   * parameters, in that order), the shape templates and the section above expect.
   */
  public static Map<String, Object> openAiShape(ToolSpec tool) {
    Map<String, Object> function = new LinkedHashMap<>();
    function.put("name", tool.name());
    if (tool.description() != null) {
      function.put("description", tool.description());
    }
    if (tool.parametersJson() != null) {
      try {
        function.put("parameters", MAPPER.readValue(tool.parametersJson(), Object.class));
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("the parameters of tool " + tool.name() + " are not JSON", e);
      }
    }
    Map<String, Object> shaped = new LinkedHashMap<>();
    shaped.put("type", "function");
    shaped.put("function", function);
    return shaped;
  }
}
