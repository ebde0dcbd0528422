package ai.deepchat.canary.rollout;

import ai.deepchat.canary.registry.CanaryException;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.json.JsonObject;

/**
 * When a rollout's candidate is rolled back automatically: its error rate above {@code maxErrorRate}
 * or its p95 time to first token above {@code maxP95TtftMillis}, over the last {@code windowSeconds},
 * once the window holds at least {@code minSamples} requests. {@code enabled} false turns the guard off.
 */
public record GuardSettings(boolean enabled, double maxErrorRate, long maxP95TtftMillis, int windowSeconds,
                            int minSamples) {

  public static GuardSettings defaults(PlatformConfig.Canary config) {
    return new GuardSettings(true, config.maxErrorRate(), config.maxP95TtftMillis(), config.guardWindowSeconds(),
        config.guardMinSamples());
  }

  /** Settings from a rollout's guards JSON, each missing field taken from {@code defaults}. */
  public static GuardSettings from(JsonObject json, GuardSettings defaults) {
    JsonObject j = json == null ? new JsonObject() : json;
    for (String key : j.fieldNames()) {
      if (!java.util.Set.of("enabled", "maxErrorRate", "maxP95TtftMs", "windowSeconds", "minSamples").contains(key)) {
        throw CanaryException.invalid("guards: unknown field '" + key + "'");
      }
    }
    try {
      GuardSettings g = new GuardSettings(j.getBoolean("enabled", defaults.enabled()),
          j.getNumber("maxErrorRate", defaults.maxErrorRate()).doubleValue(),
          j.getNumber("maxP95TtftMs", defaults.maxP95TtftMillis()).longValue(),
          j.getNumber("windowSeconds", defaults.windowSeconds()).intValue(),
          j.getNumber("minSamples", defaults.minSamples()).intValue());
      if (!(g.maxErrorRate >= 0 && g.maxErrorRate <= 1) || g.maxP95TtftMillis < 1 || g.windowSeconds < 1
          || g.windowSeconds > 86_400 || g.minSamples < 1 || g.minSamples > 1_000_000) {
        throw CanaryException.invalid("guards: maxErrorRate in 0..1, maxP95TtftMs ≥ 1, windowSeconds in 1..86400,"
            + " minSamples in 1..1000000");
      }
      return g;
    } catch (ClassCastException e) {
      throw CanaryException.invalid("guards: enabled is a boolean, the other fields are numbers");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("maxErrorRate", maxErrorRate)
        .put("maxP95TtftMs", maxP95TtftMillis).put("windowSeconds", windowSeconds).put("minSamples", minSamples);
  }
}
