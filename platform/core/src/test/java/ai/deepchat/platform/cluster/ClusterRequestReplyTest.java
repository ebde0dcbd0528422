package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** Two clustered Vert.x nodes over Hazelcast on loopback: the bus carries our records between them. */
class ClusterRequestReplyTest {

  private LoopbackCluster cluster;

  @AfterEach
  void closeNodes() throws Exception {
    cluster.close();
  }

  @Test
  void requestAndReplyCrossBetweenTwoNodes() throws Exception {
    // free ports, not fixed ones: parallel runs on this host must not collide
    cluster = LoopbackCluster.started(2);
    Vertx gateway = cluster.node(0);
    Vertx worker = cluster.node(1);
    await(worker.deployVerticle(new NodePingVerticle("worker-node")));
    await(worker.eventBus().<CancelGeneration>consumer("test.cancel", msg ->
        msg.reply(new WorkerAnnouncement("w1", "worker-node", List.of(msg.body().requestId()), 3, false)))
        .completion());

    // The subscription travels through Hazelcast; retry until it is visible on the other node.
    AtomicReference<String> pong = new AtomicReference<>();
    until("the worker's ping consumer is known on the gateway", Duration.ofSeconds(30), () -> {
      try {
        pong.set((String) await(gateway.eventBus().request(Addresses.PLATFORM_PING, "ping",
            new DeliveryOptions().setSendTimeout(2000))).body());
        return true;
      } catch (Exception notYet) {
        return false;
      }
    });
    assertThat(pong.get()).isEqualTo("worker-node");

    WorkerAnnouncement reply = (WorkerAnnouncement) await(gateway.eventBus().request("test.cancel",
        new CancelGeneration("req-42"), new DeliveryOptions().setSendTimeout(5000))).body();
    assertThat(reply.modelKeys()).containsExactly("req-42");
    assertThat(reply.nodeId()).isEqualTo("worker-node");
    assertThat(reply.activeSequences()).isEqualTo(3);
  }
}
