package ai.deepchat.failover;

import java.util.List;

/** Where the nodes of a {@link ClusterFixture} live on the network, by node index. */
interface NodeNetwork {

  /** Every node on this host's loopback, started directly. */
  NodeNetwork LOOPBACK = new NodeNetwork() {
    @Override
    public String clusterHost(int node) {
      return "127.0.0.1";
    }

    @Override
    public String httpHost(int node) {
      return "127.0.0.1";
    }

    @Override
    public String databaseHost(int node) {
      return "127.0.0.1";
    }

    @Override
    public String probeHost() {
      return "127.0.0.1";
    }

    @Override
    public List<String> launcher(int node) {
      return List.of();
    }
  };

  /** The address the node binds and announces for Hazelcast and the event bus. */
  String clusterHost(int node);

  /** The address its HTTP server binds, where the test reaches it. */
  String httpHost(int node);

  /** Where the node reaches PostgreSQL (through a relay when not loopback). */
  String databaseHost(int node);

  /** The cluster address of a member in the test JVM. */
  String probeHost();

  /** What goes before the java command line. */
  List<String> launcher(int node);
}
