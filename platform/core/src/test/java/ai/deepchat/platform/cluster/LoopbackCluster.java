package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/**
 * Clustered Vert.x nodes in this JVM, joined over Hazelcast on loopback with the platform's own
 * cluster manager, for tests of every module (platform-core test jar). A cluster name of its own, so
 * parallel test runs on this host never join each other. Closing closes every node still open.
 */
public final class LoopbackCluster implements AutoCloseable {

  private final List<String> members;
  private final String name = "loopback-" + UUID.randomUUID();
  private final List<Vertx> nodes = new ArrayList<>();
  private int selfCheckSeconds = PlatformConfig.Cluster.SELF_CHECK_SECONDS;

  /** A cluster whose member list is these Hazelcast ports on 127.0.0.1. */
  public LoopbackCluster(int... hazelcastPorts) {
    members = Arrays.stream(hazelcastPorts).mapToObj(p -> "127.0.0.1:" + p).toList();
  }

  /**
   * A cluster of {@code size} members on ports nothing listens on now (tests must not depend on fixed
   * ports), every member started in order, each joined before the next starts, with the message codecs
   * registered; {@link #node} gives them.
   */
  public static LoopbackCluster started(int size) throws Exception {
    int[] free = new int[size];
    for (int i = 0; i < size; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        free[i] = s.getLocalPort();
      }
    }
    LoopbackCluster cluster = new LoopbackCluster(free);
    for (int port : free) {
      Codecs.registerAll(cluster.start(port));
    }
    return cluster;
  }

  /**
   * Nodes started from now on run their periodic self-checks (and route comparisons) this often: a
   * test that calls them itself sets it long, so that no tick runs beside its calls.
   */
  public LoopbackCluster selfCheckEvery(Duration period) {
    selfCheckSeconds = Math.toIntExact(period.toSeconds());
    return this;
  }

  /** The {@code index}th node started and still open. */
  public Vertx node(int index) {
    return nodes.get(index);
  }

  /** Starts a node on {@code hazelcastPort} and waits until it has joined. */
  public Vertx start(int hazelcastPort) throws Exception {
    PlatformConfig.Cluster cluster = new PlatformConfig.Cluster("hazelcast", members, "127.0.0.1",
        hazelcastPort, 0, 5, Optional.empty(), "tcp", "deepchat-hazelcast", Optional.empty(), 0, selfCheckSeconds);
    HazelcastClusterManager manager = ClusterManagers.hazelcast(cluster);
    manager.getConfig().setClusterName(name);
    return track(await(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(ClusterManagers.eventBus(cluster)))
        .withClusterManager(manager)
        .buildClustered()));
  }

  /** Closes {@code node} now (it leaves the cluster gracefully). */
  public void stop(Vertx node) throws Exception {
    nodes.remove(node);
    await(node.close());
  }

  /** Closes {@code vertx} with the cluster. */
  public Vertx track(Vertx vertx) {
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
