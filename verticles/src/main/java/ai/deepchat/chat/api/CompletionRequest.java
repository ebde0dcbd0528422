package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A validated OpenAI chat completion request. Every refusal names the offending field. {@code tools}:
 * what the model is offered (null: none).
 */
record CompletionRequest(String model, List<ChatMessage> messages, boolean stream, SamplingParams sampling,
                         String user, List<ToolSpec> tools) {

  static final int MAX_MESSAGES = 1000;
  static final int MAX_STOP = 4;
  static final int MAX_TOP_LOGPROBS = 20;

  static CompletionRequest parse(JsonObject body, int defaultMaxTokens, int maxChoices) {
    String model = optionalString(body, "model", 200);
    Object rawMessages = body.getValue("messages");
    if (!(rawMessages instanceof JsonArray arr)) {
      throw bad("messages", "'messages' must be an array of {role, content}.");
    }
    if (arr.isEmpty()) {
      throw bad("messages", "'messages' must not be empty.");
    }
    if (arr.size() > MAX_MESSAGES) {
      throw bad("messages", "At most " + MAX_MESSAGES + " messages per request.");
    }
    List<ChatMessage> messages = new ArrayList<>();
    for (int i = 0; i < arr.size(); i++) {
      messages.add(message(arr.getValue(i), i));
    }
    String lastRole = messages.get(messages.size() - 1).role();
    if (!lastRole.equals("user") && !lastRole.equals("tool")) {
      throw bad("messages", "The last message must have role 'user' or 'tool'.");
    }
    ToolRequest.checkResults(messages);
    ToolRequest toolRequest = ToolRequest.parse(body);
    boolean stream = bool(body, "stream");
    Integer maxTokens = integer(body, body.containsKey("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
        1, 1 << 16);
    double temperature = number(body, "temperature", 0, 2, 1.0);
    double topP = number(body, "top_p", 0, 1, 1.0);
    if (topP == 0) {
      throw bad("top_p", "'top_p' must be greater than 0.");
    }
    List<String> stop = stop(body.getValue("stop"));
    String user = optionalString(body, "user", 256);
    int max = maxTokens == null ? defaultMaxTokens : maxTokens;
    OutputConstraint format = ResponseFormat.parse(body.getValue("response_format"), max);
    // a forced tool call decides the output's form; response_format shapes the answers without one
    OutputConstraint constraint = toolRequest.constraint() != null ? toolRequest.constraint() : format;
    SamplingParams sampling = new SamplingParams(temperature, topP, 0, 1.0, seed(body), max, stop, constraint,
        topLogprobs(body), n(body, maxChoices));
    return new CompletionRequest(model, List.copyOf(messages), stream, sampling, user, toolRequest.offered());
  }

  /**
   * {@code logprobs} (boolean) and {@code top_logprobs} (0-20, only with logprobs): -1 when not asked,
   * else how many alternatives each token brings.
   */
  static int topLogprobs(JsonObject body) {
    boolean logprobs = bool(body, "logprobs");
    Integer top = integer(body, "top_logprobs", 0, MAX_TOP_LOGPROBS);
    if (top != null && !logprobs) {
      throw bad("top_logprobs", "'top_logprobs' requires 'logprobs': true.");
    }
    return logprobs ? (top == null ? 0 : top) : -1;
  }

  /**
   * {@code seed}: the local engine's sampler starts from it, so the same seed and request give the
   * same tokens; without one each request draws its own.
   */
  static long seed(JsonObject body) {
    Object v = body.getValue("seed");
    if (v == null) {
      return java.util.concurrent.ThreadLocalRandom.current().nextLong();
    }
    if (!(v instanceof Number n) || n instanceof Double || n instanceof Float
        || n instanceof java.math.BigInteger || n instanceof java.math.BigDecimal) {
      throw bad("seed", "'seed' must be an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE + ".");
    }
    return n.longValue();
  }

  /** {@code n}: how many choices, 1 to {@code maxChoices} (CHAT_MAX_CHOICES). */
  static int n(JsonObject body, int maxChoices) {
    Integer n = integer(body, "n", 1, maxChoices);
    return n == null ? 1 : n;
  }

  private static ChatMessage message(Object value, int i) {
    if (!(value instanceof JsonObject m)) {
      throw bad("messages", "messages[" + i + "] must be an object.");
    }
    Object role = m.getValue("role");
    String r = role instanceof String s ? s : null;
    if ("developer".equals(r)) {
      r = "system";
    }
    if (r == null || !List.of("system", "user", "assistant", "tool").contains(r)) {
      throw bad("messages", "messages[" + i + "].role must be 'system', 'user', 'assistant' or 'tool'.");
    }
    List<ToolCall> calls = r.equals("assistant") ? ToolRequest.calls(m.getValue("tool_calls"), i) : null;
    String toolCallId = null;
    if (r.equals("tool")) {
      if (!(m.getValue("tool_call_id") instanceof String id) || id.isEmpty()) {
        throw bad("messages", "messages[" + i + "].tool_call_id is required on a tool message.");
      }
      toolCallId = id;
    }
    Object content = m.getValue("content");
    String text;
    if (content instanceof String s) {
      text = s;
    } else if (content instanceof JsonArray parts) {
      StringBuilder sb = new StringBuilder();
      for (int p = 0; p < parts.size(); p++) {
        if (!(parts.getValue(p) instanceof JsonObject part) || !"text".equals(part.getValue("type"))
            || !(part.getValue("text") instanceof String t)) {
          throw bad("messages", "messages[" + i + "].content: only text parts are supported.");
        }
        sb.append(t);
      }
      text = sb.toString();
    } else if (content == null && r.equals("assistant")) {
      text = "";
    } else {
      throw bad("messages", "messages[" + i + "].content must be a string.");
    }
    if (r.equals("user") && text.isBlank()) {
      throw bad("messages", "messages[" + i + "].content must not be empty.");
    }
    return new ChatMessage(r, text, calls, toolCallId);
  }

  static List<String> stop(Object value) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof String s) {
      return s.isEmpty() ? List.of() : List.of(s);
    }
    if (value instanceof JsonArray arr && arr.size() <= MAX_STOP) {
      List<String> list = new ArrayList<>();
      for (Object o : arr) {
        if (!(o instanceof String s) || s.isEmpty() || s.length() > 100) {
          throw bad("stop", "'stop' entries must be non-empty strings of at most 100 characters.");
        }
        list.add(s);
      }
      return List.copyOf(list);
    }
    throw bad("stop", "'stop' must be a string or an array of at most " + MAX_STOP + " strings.");
  }

  static String optionalString(JsonObject body, String field, int maxLength) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.length() > maxLength) {
      throw bad(field, "'" + field + "' must be a string of at most " + maxLength + " characters.");
    }
    return s;
  }

  static boolean bool(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return false;
    }
    if (!(v instanceof Boolean b)) {
      throw bad(field, "'" + field + "' must be true or false.");
    }
    return b;
  }

  static Integer integer(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || n.doubleValue() < min || n.doubleValue() > max) {
      throw bad(field, "'" + field + "' must be an integer from " + min + " to " + max + ".");
    }
    return n.intValue();
  }

  static double number(JsonObject body, String field, double min, double max, double fallback) {
    Object v = body.getValue(field);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n) || Double.isNaN(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
      throw bad(field, "'" + field + "' must be a number from " + min + " to " + max + ".");
    }
    return n.doubleValue();
  }

  static HttpProblem bad(String field, String message) {
    return HttpProblem.badRequest("invalid_" + field, message);
  }
}
