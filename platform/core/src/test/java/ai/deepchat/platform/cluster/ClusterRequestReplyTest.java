package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Two clustered Vert.x nodes over Hazelcast on loopback: the bus carries our records between them. */
class ClusterRequestReplyTest {

  private final LoopbackCluster cluster = new LoopbackCluster(15701, 15702);

  @AfterEach
  void closeNodes() throws Exception {
    cluster.close();
  }

  private Vertx startNode(int hazelcastPort) throws Exception {
    Vertx vertx = cluster.start(hazelcastPort);
    Codecs.registerAll(vertx);
    return vertx;
  }

  @Test
  void requestAndReplyCrossBetweenTwoNodes() throws Exception {
    Vertx gateway = startNode(15701);
    Vertx worker = startNode(15702);
    await(worker.deployVerticle(new NodePingVerticle("worker-node")));
    await(worker.eventBus().<CancelGeneration>consumer("test.cancel", msg ->
        msg.reply(new WorkerAnnouncement("w1", "worker-node", List.of(msg.body().requestId()), 3, false)))
        .completion());

    // The subscription travels through Hazelcast; retry until it is visible on the other node.
    String pong = null;
    for (int i = 0; i < 50 && pong == null; i++) {
      try {
        pong = (String) await(gateway.eventBus().request(Addresses.PLATFORM_PING, "ping",
            new DeliveryOptions().setSendTimeout(2000))).body();
      } catch (Exception notYet) {
        Thread.sleep(200);
      }
    }
    assertThat(pong).isEqualTo("worker-node");

    WorkerAnnouncement reply = (WorkerAnnouncement) await(gateway.eventBus().request("test.cancel",
        new CancelGeneration("req-42"), new DeliveryOptions().setSendTimeout(5000))).body();
    assertThat(reply.modelKeys()).containsExactly("req-42");
    assertThat(reply.nodeId()).isEqualTo("worker-node");
    assertThat(reply.activeSequences()).isEqualTo(3);
  }

  @Test
  void aNodesReachCheckSendsFromThatNodeAndReportsWhatGotNoReply() throws Exception {
    Vertx asker = startNode(15701);
    Vertx checked = startNode(15702);
    await(checked.deployVerticle(new NodePingVerticle("checked-node")));
    // a consumer on the asker's node: the checked node must reach it across the cluster
    await(asker.eventBus().<CancelGeneration>consumer("test.cancel", msg -> {
      if (msg.body().requestId().equals("refuse")) {
        msg.fail(400, "refused");
      } else {
        msg.reply("ok");
      }
    }).completion());
    DeliveryOptions check = new DeliveryOptions().setSendTimeout(10_000).addHeader(Addresses.REACH_ADDRESS, "test.cancel")
        .addHeader(Addresses.REACH_COUNT, "5").addHeader(Addresses.REACH_TIMEOUT_MS, "2000");
    ClusterMessages.ReachReport report = null;
    for (int i = 0; i < 50 && (report == null || report.replied() < 5); i++) {
      try {
        report = (ClusterMessages.ReachReport) await(asker.eventBus().request(Addresses.platformReach("checked-node"),
            new CancelGeneration("req-1"), check)).body();
      } catch (Exception notYet) {
        Thread.sleep(200); // subscriptions travel through Hazelcast
      }
    }
    assertThat(report).isNotNull();
    assertThat(report.nodeId()).isEqualTo("checked-node");
    assertThat(report.replied()).isEqualTo(5);
    assertThat(report.errors()).isEmpty();

    var refused = (ClusterMessages.ReachReport) await(asker.eventBus().request(Addresses.platformReach("checked-node"),
        new CancelGeneration("refuse"), check)).body();
    assertThat(refused.replied()).as("a refusal still proves a live consumer read it").isEqualTo(5);

    var nobody = (ClusterMessages.ReachReport) await(asker.eventBus().request(Addresses.platformReach("checked-node"),
        new CancelGeneration("req-2"), new DeliveryOptions().setSendTimeout(10_000)
            .addHeader(Addresses.REACH_ADDRESS, "test.nobody").addHeader(Addresses.REACH_COUNT, "3")
            .addHeader(Addresses.REACH_TIMEOUT_MS, "2000"))).body();
    assertThat(nobody.replied()).isZero();
    assertThat(nobody.errors()).hasSize(3);

    assertThat(asker.eventBus().request(Addresses.platformReach("checked-node"), "x",
            new DeliveryOptions().setSendTimeout(5000).addHeader(Addresses.REACH_ADDRESS, "test.cancel")
                .addHeader(Addresses.REACH_COUNT, "100000").addHeader(Addresses.REACH_TIMEOUT_MS, "2000"))
        .toCompletionStage().toCompletableFuture()).failsWithin(java.time.Duration.ofSeconds(10))
        .withThrowableThat().withMessageContaining("reach-count 1..1000");
  }
}
