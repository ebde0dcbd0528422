package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Codecs;
import io.vertx.core.Vertx;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The two ends of a bus contract test, for tests of every module (platform-core test jar): a contract
 * is written once against {@link #asking} and {@link #serving}, and run once on {@link #local()} (one
 * Vert.x instance plays both) and once on {@link #clustered()} (two Hazelcast members on loopback, every
 * message crossing the wire). The message codecs are registered on both.
 */
public record BusPair(Vertx asking, Vertx serving, AutoCloseable closer) implements AutoCloseable {

  public static BusPair local() {
    Vertx vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    return new BusPair(vertx, vertx, () -> await(vertx.close()));
  }

  public static BusPair clustered() throws Exception {
    LoopbackCluster cluster = LoopbackCluster.started(2);
    return new BusPair(cluster.node(0), cluster.node(1), cluster);
  }

  @Override
  public void close() throws Exception {
    closer.close();
  }
}
