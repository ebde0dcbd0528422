package ai.deepchat.platform.cluster;

import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static ai.deepchat.platform.testing.Await.await;

/**
 * Clustered Vert.x nodes in this JVM, joined over Hazelcast on loopback with the platform's own
 * cluster manager, for tests. Closing closes every node still open.
 */
final class LoopbackCluster implements AutoCloseable {

  private final List<String> members;
  private final List<Vertx> nodes = new ArrayList<>();

  /** A cluster whose member list is these Hazelcast ports on 127.0.0.1. */
  LoopbackCluster(int... hazelcastPorts) {
    members = Arrays.stream(hazelcastPorts).mapToObj(p -> "127.0.0.1:" + p).toList();
  }

  /** Starts a node on {@code hazelcastPort} and waits until it has joined. */
  Vertx start(int hazelcastPort) throws Exception {
    PlatformConfig.Cluster cluster = new PlatformConfig.Cluster("hazelcast", members, "127.0.0.1",
        hazelcastPort, 0, 5, Optional.empty());
    return track(await(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(ClusterManagers.eventBus(cluster)))
        .withClusterManager(ClusterManagers.hazelcast(cluster))
        .buildClustered()));
  }

  /** Closes {@code node} now (it leaves the cluster gracefully). */
  void stop(Vertx node) throws Exception {
    nodes.remove(node);
    await(node.close());
  }

  /** Closes {@code vertx} with the cluster. */
  Vertx track(Vertx vertx) {
    nodes.add(vertx);
    return vertx;
  }

  @Override
  public void close() throws Exception {
    for (Vertx v : nodes) {
      await(v.close());
    }
    nodes.clear();
  }
}
