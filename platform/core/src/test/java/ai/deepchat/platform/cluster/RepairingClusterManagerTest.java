package ai.deepchat.platform.cluster;

import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastNodeInfo;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event-bus route repair on two real Hazelcast members over loopback: a subscription left by a
 * node that is gone is swept, a node selector that missed an update is refreshed, and either way
 * requests reach the live consumer again; a member leaving runs the passes by itself.
 */
class RepairingClusterManagerTest {

  private static final String ADDRESS = "repair.test";
  private static final HazelcastRegistrationInfo GHOST =
      new HazelcastRegistrationInfo(new RegistrationInfo("ghost-node", 1, false));

  private final LoopbackCluster cluster = new LoopbackCluster(15731, 15732);

  @AfterEach
  void close() throws Exception {
    cluster.close();
  }

  @Test
  void aGoneNodesSubscriptionIsRemovedAtOnceOrAtTheSecondPassWhileItsEndpointLingers() throws Exception {
    Vertx a = aReachingBsConsumer();
    RepairingClusterManager manager = manager(a);
    MultiMap<String, HazelcastRegistrationInfo> subscriptions =
        manager.getHazelcastInstance().getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);

    subscriptions.put(ADDRESS, GHOST);
    until("a routes some requests to the gone node", Duration.ofSeconds(30), () -> failures(a, 10) > 0);
    assertThat(manager.refreshRoutes()).isPositive();
    assertThat(manager.routesSettled()).as("a route names a node that is not a member: passes go on").isFalse();
    assertThat(manager.sweep()).as("no endpoint: stale at once").isEqualTo(1);
    assertThat(subscriptions.get(ADDRESS)).doesNotContain(GHOST);
    assertThat(manager.refreshRoutes()).isPositive();
    assertThat(manager.routesSettled()).as("members only: passes may stop").isTrue();
    assertThat(failures(a, 20)).as("every request reaches b right after the pass").isZero();

    // an endpoint still published: it may be a node on its way back, so it waits for the next pass
    manager.getHazelcastInstance().getMap(RepairingClusterManager.NODE_INFOS)
        .put("ghost-node", new HazelcastNodeInfo(new NodeInfo("127.0.0.1", 1, null)));
    subscriptions.put(ADDRESS, GHOST);
    assertThat(manager.sweep()).as("first pass keeps it").isZero();
    assertThat(manager.sweep()).as("absent at two passes").isEqualTo(1);
    assertThat(subscriptions.get(ADDRESS)).doesNotContain(GHOST);
  }

  @Test
  void aSelectorThatMissedAnUpdateIsRefreshedFromTheCluster() throws Exception {
    Vertx a = aReachingBsConsumer();
    RepairingClusterManager manager = manager(a);
    Promise<List<RegistrationInfo>> live = Promise.promise();
    manager.getRegistrations(ADDRESS, live);
    List<RegistrationInfo> stale = new ArrayList<>(await(live.future()));
    stale.add(GHOST.unwrap());

    // the map is right; only a's selector believes in the gone node, as after a lost entry event
    manager.selector().registrationsUpdated(new RegistrationUpdateEvent(ADDRESS, stale));
    assertThat(failures(a, 10)).as("requests routed to the gone node").isPositive();
    assertThat(manager.refreshRoutes()).isPositive();
    assertThat(failures(a, 20)).as("every request reaches b after the pass").isZero();
  }

  @Test
  void aMemberLeavingRunsTheRepairOnTheOthers() throws Exception {
    Vertx a = cluster.start(15731);
    Vertx b = cluster.start(15732);
    RepairingClusterManager manager = manager(a);
    MultiMap<String, HazelcastRegistrationInfo> subscriptions =
        manager.getHazelcastInstance().getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);
    subscriptions.put(ADDRESS, GHOST);
    cluster.stop(b);
    until("the pass after b left removed the gone node's subscription", Duration.ofSeconds(30),
        () -> !subscriptions.containsEntry(ADDRESS, GHOST));
  }

  /** How many of {@code n} requests from {@code from} got no reply from a live consumer. */
  private static int failures(Vertx from, int n) throws Exception {
    List<Future<Object>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      replies.add(from.eventBus().request(ADDRESS, "ping", new DeliveryOptions().setSendTimeout(1_000))
          .map(m -> m.body()));
    }
    Future.join(replies).otherwiseEmpty().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return (int) replies.stream().filter(Future::failed).count();
  }

  private static RepairingClusterManager manager(Vertx vertx) {
    return (RepairingClusterManager) ClusterMembership.clusterManager(vertx);
  }

  /** Nodes a and b, b serving {@link #ADDRESS}; returns a once its requests reach b. */
  private Vertx aReachingBsConsumer() throws Exception {
    Vertx a = cluster.start(15731);
    Vertx b = cluster.start(15732);
    await(b.eventBus().consumer(ADDRESS, msg -> msg.reply("b")).completion());
    until("a reaches b's consumer", Duration.ofSeconds(30), () -> failures(a, 5) == 0);
    return a;
  }
}
