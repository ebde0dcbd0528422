package ai.deepchat.bus;

import ai.deepchat.platform.cluster.BusPair;

/** {@link BusContract} on one local Vert.x instance: the bus never leaves the JVM's memory. */
class LocalBusContractTest extends BusContract {

  @Override
  protected BusPair startNodes() {
    return BusPair.local();
  }
}
