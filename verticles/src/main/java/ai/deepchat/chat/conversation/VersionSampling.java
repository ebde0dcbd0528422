package ai.deepchat.chat.conversation;

import ai.deepchat.canary.registry.SamplingDefaults;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.json.JsonObject;

/**
 * Sampling for turns that bring none (widget): a registered version's own defaults (its params:
 * temperature, top_p, ...) apply where the version sets them; the tenant's settings still win for the
 * keys they set (temperature, max_tokens), and everything else keeps the tenant default.
 */
final class VersionSampling {

  private VersionSampling() {
  }

  static SamplingParams of(ModelChoice model, JsonObject tenantSettings, SamplingParams tenantDefault) {
    JsonObject p = model.assignment() == null ? null : model.assignment().version().params();
    if (p == null) {
      return tenantDefault;
    }
    SamplingParams v = SamplingDefaults.of(p, tenantDefault.maxTokens());
    boolean tenantTemperature = tenantSettings.containsKey("temperature");
    boolean tenantMax = tenantSettings.containsKey("max_tokens");
    return new SamplingParams(
        !tenantTemperature && p.containsKey("temperature") ? v.temperature() : tenantDefault.temperature(),
        p.containsKey("top_p") ? v.topP() : tenantDefault.topP(),
        p.containsKey("top_k") ? v.topK() : tenantDefault.topK(),
        p.containsKey("repetition_penalty") ? v.repetitionPenalty() : tenantDefault.repetitionPenalty(),
        p.containsKey("seed") ? v.seed() : tenantDefault.seed(),
        !tenantMax && p.containsKey("max_tokens") ? v.maxTokens() : tenantDefault.maxTokens(),
        p.containsKey("stop") ? v.stop() : tenantDefault.stop());
  }
}
