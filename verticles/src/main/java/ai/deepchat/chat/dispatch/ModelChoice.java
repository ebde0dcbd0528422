package ai.deepchat.chat.dispatch;

import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.platform.metrics.TenantLabels;

import java.util.UUID;

/**
 * The model version that answers a turn: its row (null for the platform default), the name clients
 * see, where it runs (a fallback is tried only when the primary fails before its first token), the
 * context window, whether it is the bundled test checkpoint, and the rollout assignment that chose it
 * (null when rollout routing did not), which the conversation reports the turn's outcome against.
 */
public record ModelChoice(String versionId, String name, BackendSpec primary, BackendSpec fallback,
                          int contextTokens, boolean testModel, Assignment assignment, boolean vision) {

  /**
   * {@code vision}: the version declared it reads pictures (params.vision); it holds only where every
   * backend that may answer is OpenAI-compatible (the engine is text-only).
   */
  public ModelChoice {
    vision = vision && readsPictures(primary) && (fallback == null || readsPictures(fallback));
  }

  public ModelChoice(String versionId, String name, BackendSpec primary, BackendSpec fallback, int contextTokens,
                     boolean testModel, Assignment assignment) {
    this(versionId, name, primary, fallback, contextTokens, testModel, assignment, false);
  }

  public ModelChoice(String versionId, String name, BackendSpec primary, BackendSpec fallback, int contextTokens,
                     boolean testModel) {
    this(versionId, name, primary, fallback, contextTokens, testModel, null, false);
  }

  public ModelChoice withAssignment(Assignment a, BackendSpec fallbackSpec) {
    return new ModelChoice(versionId, name, primary, fallbackSpec, contextTokens, testModel, a, vision);
  }

  private static boolean readsPictures(BackendSpec spec) {
    return spec.kind() == BackendSpec.Kind.OPENAI;
  }

  /**
   * The id to store in conversations/messages.model_version_id: only tenant versions, whose rows that
   * column references; a platform-wide version (platform_model_versions) would violate the foreign key.
   */
  public UUID storedVersionId() {
    if (versionId == null || assignment != null && assignment.version().tenantId() == null) {
      return null;
    }
    return UUID.fromString(versionId);
  }

  /** Shown wherever the bundled test checkpoint answers, so nobody mistakes it for a real model. */
  public static final String TEST_MODEL_NOTICE = "This is a tiny test model bundled with DeepChat; its answers are "
      + "not meaningful. To serve a real model set MODEL_DIR (local GPU) or DEEPSEEK_API_KEY (DeepSeek's API); "
      + "see docs/configuration.md.";

  public String notice() {
    return testModel ? TEST_MODEL_NOTICE : null;
  }

  /**
   * The {@code model} label of metrics: the platform's models by name; a tenant's registered version
   * by an opaque hash of its id, never the name the tenant chose (rollout routing says whose it is;
   * without it a registered version is the tenant's own).
   */
  public String metricsLabel() {
    if (versionId == null) {
      return name;
    }
    boolean platformVersion = assignment != null && assignment.version().tenantId() == null;
    return platformVersion ? name : TenantLabels.opaque(versionId);
  }

  /** Identifies what produced an answer, for the response cache. */
  public String cacheIdentity() {
    return (versionId == null ? "default" : versionId) + "|" + primary.describe();
  }
}
