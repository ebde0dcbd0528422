package ai.deepchat.canary;

import ai.deepchat.platform.cluster.BusPair;

/** {@link CanaryChoiceContract} with both services on one local Vert.x instance. */
class LocalCanaryChoiceTest extends CanaryChoiceContract {

  @Override
  protected BusPair startNodes() {
    return BusPair.local();
  }
}
