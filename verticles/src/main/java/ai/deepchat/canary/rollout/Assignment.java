package ai.deepchat.canary.rollout;

import ai.deepchat.canary.registry.ModelVersion;

/**
 * Which version answers a turn. {@code role} CANDIDATE means a rollout sent this conversation to a
 * version under trial; the dispatcher then reports the outcome with {@code CanaryOutcomes} so the
 * guard sees it. {@code fallback} is the serving stable version when the candidate answers (use it if
 * the candidate fails before its first token), else null. {@code shadow}, when set, is a candidate that
 * should also answer in the background, its answer given to {@code ShadowRecorder} and never to the
 * caller. {@code rerouted} is true when the rollout chose a version with no live worker and the stable
 * one answers instead. {@code bucket} is the conversation's bucket in the rollout, -1 without one.
 */
public record Assignment(ModelVersion version, Role role, Rollout rollout, int bucket, ModelVersion fallback,
                         ModelVersion shadow, boolean rerouted) {

  public enum Role { STABLE, CANDIDATE }

  public boolean candidate() {
    return role == Role.CANDIDATE;
  }
}
