package ai.deepchat.canary.rollout;

import java.util.UUID;

/** One arm of an A/B rollout: a version and its share of conversations in basis points (1/100 %). */
public record Arm(UUID versionId, int basisPoints) {
}
