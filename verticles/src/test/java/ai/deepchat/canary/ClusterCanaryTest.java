package ai.deepchat.canary;

import ai.deepchat.platform.cluster.BusPair;

/** {@link CanaryChoiceContract} across two clustered nodes: the change event crosses the wire. */
class ClusterCanaryTest extends CanaryChoiceContract {

  @Override
  protected BusPair startNodes() throws Exception {
    return BusPair.clustered();
  }
}
