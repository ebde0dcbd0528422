package ai.deepchat.chat.api;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** A validated OpenAI chat completion request. Every refusal names the offending field. */
record CompletionRequest(String model, List<ChatMessage> messages, boolean stream, SamplingParams sampling,
                         String user) {

  static final int MAX_MESSAGES = 1000;
  static final int MAX_STOP = 4;

  static CompletionRequest parse(JsonObject body, int defaultMaxTokens) {
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
    if (!messages.get(messages.size() - 1).role().equals("user")) {
      throw bad("messages", "The last message must have role 'user'.");
    }
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
    SamplingParams sampling = new SamplingParams(temperature, topP, 0, 1.0, 0, max, stop, format, -1, 1);
    return new CompletionRequest(model, List.copyOf(messages), stream, sampling, user);
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
    if (r == null || !List.of("system", "user", "assistant").contains(r)) {
      throw bad("messages", "messages[" + i + "].role must be 'system', 'user' or 'assistant'.");
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
    return new ChatMessage(r, text);
  }

  private static List<String> stop(Object value) {
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

  private static String optionalString(JsonObject body, String field, int maxLength) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.length() > maxLength) {
      throw bad(field, "'" + field + "' must be a string of at most " + maxLength + " characters.");
    }
    return s;
  }

  private static boolean bool(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return false;
    }
    if (!(v instanceof Boolean b)) {
      throw bad(field, "'" + field + "' must be true or false.");
    }
    return b;
  }

  private static Integer integer(JsonObject body, String field, int min, int max) {
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

  private static double number(JsonObject body, String field, double min, double max, double fallback) {
    Object v = body.getValue(field);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n) || Double.isNaN(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
      throw bad(field, "'" + field + "' must be a number from " + min + " to " + max + ".");
    }
    return n.doubleValue();
  }

  private static HttpProblem bad(String field, String message) {
    return HttpProblem.badRequest("invalid_" + field, message);
  }
}
