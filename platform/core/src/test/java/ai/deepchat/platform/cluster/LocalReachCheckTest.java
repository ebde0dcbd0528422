package ai.deepchat.platform.cluster;

/** {@link ReachCheckContract} on one local Vert.x instance: the bus never leaves the JVM's memory. */
class LocalReachCheckTest extends ReachCheckContract {

  @Override
  protected BusPair startNodes() {
    return BusPair.local();
  }
}
