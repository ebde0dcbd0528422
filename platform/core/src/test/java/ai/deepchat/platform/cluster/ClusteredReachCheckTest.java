package ai.deepchat.platform.cluster;

/** {@link ReachCheckContract} across two clustered nodes: every message and reply crosses the wire. */
class ClusteredReachCheckTest extends ReachCheckContract {

  private LoopbackCluster cluster;

  @Override
  protected void startNodes() throws Exception {
    cluster = LoopbackCluster.started(2);
    asker = cluster.node(0);
    checked = cluster.node(1);
  }

  @Override
  protected void stopNodes() throws Exception {
    cluster.close();
  }
}
