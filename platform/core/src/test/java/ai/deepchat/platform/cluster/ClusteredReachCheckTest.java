package ai.deepchat.platform.cluster;

import io.vertx.core.Vertx;

import java.util.List;

/** {@link ReachCheckContract} across two clustered nodes: every message and reply crosses the wire. */
class ClusteredReachCheckTest extends ReachCheckContract {

  private LoopbackCluster cluster;

  @Override
  protected void startNodes() throws Exception {
    cluster = LoopbackCluster.onFreePorts(2);
    List<Vertx> nodes = cluster.startAll();
    asker = nodes.get(0);
    checked = nodes.get(1);
  }

  @Override
  protected void stopNodes() throws Exception {
    cluster.close();
  }
}
