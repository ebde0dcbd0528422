package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reach check ({@link Addresses#platformReach}) as a bus contract, written once and run by
 * {@link LocalReachCheckTest} (one Vert.x instance plays both nodes) and {@link ClusteredReachCheckTest}
 * (two Hazelcast members on loopback): the same answers whether or not the bus crosses the wire.
 */
abstract class ReachCheckContract extends BusPairContract {

  private ClusterMessages.ReachReport reach(Object body, DeliveryOptions check) throws Exception {
    return (ClusterMessages.ReachReport) await(nodes.asking().eventBus()
        .request(Addresses.platformReach("checked-node"), body, check)).body();
  }

  @Test
  void aNodesReachCheckSendsFromThatNodeAndReportsWhatGotNoReply() throws Exception {
    await(nodes.serving().deployVerticle(new NodePingVerticle("checked-node")));
    // a consumer on the asking node: the checked node must reach it across the cluster
    await(nodes.asking().eventBus().<CancelGeneration>consumer("test.cancel", msg -> {
      if (msg.body().requestId().equals("refuse")) {
        msg.fail(400, "refused");
      } else {
        msg.reply("ok");
      }
    }).completion());
    DeliveryOptions check = new DeliveryOptions().setSendTimeout(10_000).addHeader(Addresses.REACH_ADDRESS, "test.cancel")
        .addHeader(Addresses.REACH_COUNT, "5").addHeader(Addresses.REACH_TIMEOUT_MS, "2000");
    AtomicReference<ClusterMessages.ReachReport> first = new AtomicReference<>();
    // subscriptions travel through Hazelcast: ask again until both consumers are known everywhere
    until("the checked node reaches the asking node's consumer", Duration.ofSeconds(30), () -> {
      try {
        first.set(reach(new CancelGeneration("req-1"), check));
      } catch (Exception notYet) {
        return false;
      }
      return first.get().replied() >= 5;
    });
    ClusterMessages.ReachReport report = first.get();
    assertThat(report).isNotNull();
    assertThat(report.nodeId()).isEqualTo("checked-node");
    assertThat(report.replied()).isEqualTo(5);
    assertThat(report.errors()).isEmpty();

    var refused = reach(new CancelGeneration("refuse"), check);
    assertThat(refused.replied()).as("a refusal still proves a live consumer read it").isEqualTo(5);

    var nobody = reach(new CancelGeneration("req-2"), new DeliveryOptions().setSendTimeout(10_000)
        .addHeader(Addresses.REACH_ADDRESS, "test.nobody").addHeader(Addresses.REACH_COUNT, "3")
        .addHeader(Addresses.REACH_TIMEOUT_MS, "2000"));
    assertThat(nobody.replied()).isZero();
    assertThat(nobody.errors()).hasSize(3);

    assertThat(nodes.asking().eventBus().request(Addresses.platformReach("checked-node"), "x",
            new DeliveryOptions().setSendTimeout(5000).addHeader(Addresses.REACH_ADDRESS, "test.cancel")
                .addHeader(Addresses.REACH_COUNT, "100000").addHeader(Addresses.REACH_TIMEOUT_MS, "2000"))
        .toCompletionStage().toCompletableFuture()).failsWithin(Duration.ofSeconds(10))
        .withThrowableThat().withMessageContaining("reach-count 1..1000");
  }
}
