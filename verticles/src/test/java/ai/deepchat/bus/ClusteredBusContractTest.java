package ai.deepchat.bus;

import ai.deepchat.platform.cluster.BusPair;

/** {@link BusContract} across two clustered nodes: every request, reply and failure crosses the wire. */
class ClusteredBusContractTest extends BusContract {

  @Override
  protected BusPair startNodes() throws Exception {
    return BusPair.clustered();
  }
}
