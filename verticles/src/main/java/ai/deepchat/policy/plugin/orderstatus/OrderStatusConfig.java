package ai.deepchat.policy.plugin.orderstatus;

import ai.deepchat.policy.plugin.OutboundUrlGuard;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A tenant's configuration of the order-status plugin (plugin_configs.config), validated:
 * <pre>
 * {
 *   "urlTemplate": "https://shop.example.com/api/orders/{order}",   required, {order} is URL-encoded
 *   "allowedHosts": ["shop.example.com"],                           required, exact host names
 *   "httpAllowedHosts": [],                                         hosts allowed over plain http
 *   "orderPattern": "...",                                          regex; group 1 is the order number
 *   "statusField": "status",                                        dot path in the JSON reply
 *   "answerTemplate": "Order {order}: {status}",
 *   "notFoundAnswer": "I could not find order {order}.",
 *   "timeoutMs": 3000,                                              100..10000
 *   "headers": {"Authorization": "Bearer ..."},                    sent with every request
 *   "allowLoopbackForDevelopment": false                            development and tests only
 * }
 * </pre>
 */
record OrderStatusConfig(String urlTemplate, OutboundUrlGuard.Policy policy, Pattern orderPattern,
                         String statusField, String answerTemplate, String notFoundAnswer, long timeoutMs,
                         Map<String, String> headers) {

  static final String DEFAULT_PATTERN =
      "(?i)(?:order|订单)\\s*(?:no\\.?(?![a-z0-9])|number|号|编号)?\\s*[#:：]?\\s*([A-Z0-9][A-Z0-9-]{5,31})";
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");

  static OrderStatusConfig parse(JsonObject c) {
    String template = c.getString("urlTemplate");
    if (template == null || !template.contains("{order}")) {
      throw new IllegalArgumentException("urlTemplate is required and must contain {order}");
    }
    Set<String> allowed = strings(c, "allowedHosts");
    if (allowed.isEmpty()) {
      throw new IllegalArgumentException("allowedHosts must list at least one host");
    }
    Set<String> http = strings(c, "httpAllowedHosts");
    boolean loopback = c.getBoolean("allowLoopbackForDevelopment", false);
    Pattern pattern;
    try {
      pattern = Pattern.compile(c.getString("orderPattern", DEFAULT_PATTERN));
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("orderPattern is not a valid regular expression: " + e.getDescription());
    }
    long timeout = c.getLong("timeoutMs", 3000L);
    if (timeout < 100 || timeout > 10_000) {
      throw new IllegalArgumentException("timeoutMs must be within 100..10000");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    JsonObject h = c.getJsonObject("headers", new JsonObject());
    for (String name : h.fieldNames()) {
      Object v = h.getValue(name);
      if (!HEADER_NAME.matcher(name).matches() || !(v instanceof String s) || s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("header '" + name + "' is not a valid header name and string value");
      }
      headers.put(name, s);
    }
    OrderStatusConfig config = new OrderStatusConfig(template, new OutboundUrlGuard.Policy(allowed, http, loopback),
        pattern, c.getString("statusField", "status"), c.getString("answerTemplate", "Order {order}: {status}"),
        c.getString("notFoundAnswer", "I could not find order {order}."), timeout, Map.copyOf(headers));
    // the template's own host and scheme must pass the guard before any order number is put in
    OutboundUrlGuard.checkUrl(template.replace("{order}", "X"), config.policy());
    return config;
  }

  private static Set<String> strings(JsonObject c, String key) {
    Object v = c.getValue(key);
    Set<String> out = new LinkedHashSet<>();
    if (v == null) {
      return out;
    }
    if (!(v instanceof JsonArray arr)) {
      throw new IllegalArgumentException(key + " must be a list of host names");
    }
    for (Object o : arr) {
      if (!(o instanceof String s) || s.isBlank()) {
        throw new IllegalArgumentException(key + " must be a list of host names");
      }
      out.add(s.trim());
    }
    return out;
  }
}
