package ai.deepchat.policy.plugin.orderstatus;

import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import ai.deepchat.platform.outbound.OutboundUrl;
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
 *   "headers": {"Authorization": "Bearer ..."}                     sent with every request
 * }
 * </pre>
 * The host lists only narrow what the node's {@link OutboundPolicy} allows: an internal address stays
 * refused whatever the tenant lists (the former {@code allowLoopbackForDevelopment} is no longer read;
 * internal endpoints are the operator's to allow, with OUTBOUND_ALLOWED_HOSTS).
 */
record OrderStatusConfig(String urlTemplate, Set<String> allowedHosts, Set<String> httpAllowedHosts,
                         Pattern orderPattern, String statusField, String answerTemplate, String notFoundAnswer,
                         long timeoutMs, Map<String, String> headers) {

  static final String DEFAULT_PATTERN =
      "(?i)(?:order|订单)\\s*(?:no\\.?(?![a-z0-9])|number|号|编号)?\\s*[#:：]?\\s*([A-Z0-9][A-Z0-9-]{5,31})";
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");

  /** Parses and checks {@code c}; the template's host must pass the tenant's lists and {@code outbound}. */
  static OrderStatusConfig parse(JsonObject c, OutboundPolicy outbound) {
    String template = c.getString("urlTemplate");
    if (template == null || !template.contains("{order}")) {
      throw new IllegalArgumentException("urlTemplate is required and must contain {order}");
    }
    Set<String> allowed = strings(c, "allowedHosts");
    if (allowed.isEmpty()) {
      throw new IllegalArgumentException("allowedHosts must list at least one host");
    }
    Set<String> http = strings(c, "httpAllowedHosts");
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
    OrderStatusConfig config = new OrderStatusConfig(template, allowed, http, pattern,
        c.getString("statusField", "status"), c.getString("answerTemplate", "Order {order}: {status}"),
        c.getString("notFoundAnswer", "I could not find order {order}."), timeout, Map.copyOf(headers));
    // the template's own host and scheme must pass before any order number is put in
    try {
      config.target(template.replace("{order}", "X"), outbound);
    } catch (OutboundRefusedException e) {
      throw new IllegalArgumentException("urlTemplate refused: " + e.getMessage());
    }
    return config;
  }

  /** {@code url} checked by the node's policy, then by the tenant's own host lists (exact host, https unless listed). */
  OutboundUrl target(String url, OutboundPolicy outbound) {
    OutboundUrl checked = outbound.check(url);
    if (!allowedHosts.contains(checked.host())) {
      throw new OutboundRefusedException("host " + checked.host() + " is not on the allow-list");
    }
    if (!checked.https() && !httpAllowedHosts.contains(checked.host())) {
      throw new OutboundRefusedException("plain http is refused for " + checked.host() + " (https required)");
    }
    return checked;
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
      out.add(OutboundPolicy.normalizeHost(s));
    }
    return out;
  }
}
