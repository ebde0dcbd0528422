package ai.deepchat.canary.registry;

import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;

/**
 * A version's default sampling parameters, kept in its params JSON with the OpenAI names (temperature,
 * top_p, top_k, repetition_penalty, max_tokens, seed, stop), beside the backend settings the
 * dispatcher reads (model, api_key, context_tokens, fallback, vision: the version reads pictures).
 */
public final class SamplingDefaults {

  private static final Set<String> KNOWN = Set.of("temperature", "top_p", "top_k", "repetition_penalty", "max_tokens",
      "seed", "stop", "model", "api_key", "context_tokens", "fallback", "vision");

  private SamplingDefaults() {
  }

  /** The sampling parameters a request gets when it sets none of its own. */
  public static SamplingParams of(JsonObject params, int defaultMaxTokens) {
    List<String> stop = params.getJsonArray("stop") == null ? List.of()
        : params.getJsonArray("stop").stream().map(String::valueOf).toList();
    return new SamplingParams(number(params, "temperature", 0.6), number(params, "top_p", 0.95),
        (int) number(params, "top_k", 0), number(params, "repetition_penalty", 1.0),
        (long) number(params, "seed", 0), (int) number(params, "max_tokens", defaultMaxTokens), stop);
  }

  static void validate(JsonObject params) {
    if (params.encode().length() > 10_000) {
      throw CanaryException.invalid("params is larger than 10000 bytes");
    }
    for (String key : params.fieldNames()) {
      if (!KNOWN.contains(key)) {
        throw CanaryException.invalid("unknown parameter '" + key + "' (known: " + String.join(", ",
            KNOWN.stream().sorted().toList()) + ")");
      }
    }
    range(params, "temperature", 0, 2);
    range(params, "top_p", 0, 1);
    range(params, "top_k", 0, 1000);
    range(params, "repetition_penalty", 0.01, 10);
    range(params, "max_tokens", 1, 1_000_000);
    range(params, "context_tokens", 16, 10_000_000);
    range(params, "seed", 0, Long.MAX_VALUE);
    for (String key : List.of("model", "api_key")) {
      if (params.containsKey(key) && !(params.getValue(key) instanceof String)) {
        throw CanaryException.invalid(key + " must be a string");
      }
    }
    if (params.containsKey("stop") && !(params.getValue("stop") instanceof io.vertx.core.json.JsonArray)) {
      throw CanaryException.invalid("stop must be an array of strings");
    }
    if (params.containsKey("vision") && !(params.getValue("vision") instanceof Boolean)) {
      throw CanaryException.invalid("vision must be true or false");
    }
    if (params.containsKey("fallback") && !(params.getValue("fallback") instanceof JsonObject)) {
      throw CanaryException.invalid("fallback must be an object {backend, location, model, api_key}");
    }
  }

  private static void range(JsonObject params, String key, double min, double max) {
    if (!params.containsKey(key)) {
      return;
    }
    Object v = params.getValue(key);
    if (!(v instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max || Double.isNaN(n.doubleValue())) {
      throw CanaryException.invalid(key + " must be a number in " + min + ".." + max);
    }
  }

  private static double number(JsonObject params, String key, double fallback) {
    Object v = params.getValue(key);
    return v instanceof Number n ? n.doubleValue() : fallback;
  }
}
