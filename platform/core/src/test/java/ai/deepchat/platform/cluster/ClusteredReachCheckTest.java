package ai.deepchat.platform.cluster;

/** {@link ReachCheckContract} across two clustered nodes: every message and reply crosses the wire. */
class ClusteredReachCheckTest extends ReachCheckContract {

  @Override
  protected BusPair startNodes() throws Exception {
    return BusPair.clustered();
  }
}
