package ai.deepchat.platform.cluster;

import ai.deepchat.platform.config.PlatformConfig;
import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastNodeInfo;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event-bus route repair on two real Hazelcast members over loopback: a subscription left by a
 * node that is gone, and a node selector that missed an update, both stop costing requests after a
 * pass; a member leaving runs the passes by itself.
 */
class RepairingClusterManagerTest {

  private static final String ADDRESS = "repair.test";
  private static final List<String> MEMBERS = List.of("127.0.0.1:15731", "127.0.0.1:15732");
  private static final HazelcastRegistrationInfo GHOST =
      new HazelcastRegistrationInfo(new RegistrationInfo("ghost-node", 1, false));

  private final List<Vertx> nodes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (Vertx v : nodes) {
      await(v.close());
    }
  }

  @Test
  void aGoneNodesSubscriptionIsRemovedAtOnceOrAtTheSecondPassWhileItsEndpointLingers() throws Exception {
    Vertx a = startNode(15731);
    Vertx b = startNode(15732);
    await(b.eventBus().consumer(ADDRESS, msg -> msg.reply("b")).completion());
    awaitTrue("a reaches b's consumer", () -> failures(a, 5) == 0);
    RepairingClusterManager manager = manager(a);
    MultiMap<String, HazelcastRegistrationInfo> subscriptions =
        manager.getHazelcastInstance().getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);

    subscriptions.put(ADDRESS, GHOST);
    awaitTrue("a routes some requests to the gone node", () -> failures(a, 10) > 0);
    assertThat(manager.repair()).as("no endpoint: stale at once").isEqualTo(1);
    assertThat(subscriptions.get(ADDRESS)).doesNotContain(GHOST);
    assertThat(failures(a, 20)).as("every request reaches b right after the pass").isZero();

    // an endpoint still published: it may be a node on its way back, so it waits for the next pass
    manager.getHazelcastInstance().getMap(RepairingClusterManager.NODE_INFOS)
        .put("ghost-node", new HazelcastNodeInfo(new NodeInfo("127.0.0.1", 1, null)));
    subscriptions.put(ADDRESS, GHOST);
    assertThat(manager.repair()).as("first pass keeps it").isZero();
    assertThat(manager.repair()).as("absent at two passes").isEqualTo(1);
    assertThat(subscriptions.get(ADDRESS)).doesNotContain(GHOST);
  }

  @Test
  void aSelectorThatMissedAnUpdateIsRefreshedFromTheCluster() throws Exception {
    Vertx a = startNode(15731);
    Vertx b = startNode(15732);
    await(b.eventBus().consumer(ADDRESS, msg -> msg.reply("b")).completion());
    awaitTrue("a reaches b's consumer", () -> failures(a, 5) == 0);
    RepairingClusterManager manager = manager(a);
    Promise<List<RegistrationInfo>> live = Promise.promise();
    manager.getRegistrations(ADDRESS, live);
    List<RegistrationInfo> stale = new ArrayList<>(await(live.future()));
    stale.add(GHOST.unwrap());

    // the map is right; only a's selector believes in the gone node, as after a lost entry event
    manager.selector().registrationsUpdated(new RegistrationUpdateEvent(ADDRESS, stale));
    assertThat(failures(a, 10)).as("requests routed to the gone node").isPositive();
    assertThat(manager.repair()).isZero();
    assertThat(failures(a, 20)).as("every request reaches b after the pass").isZero();
  }

  @Test
  void aMemberLeavingRunsTheRepairOnTheOthers() throws Exception {
    Vertx a = startNode(15731);
    Vertx b = startNode(15732);
    RepairingClusterManager manager = manager(a);
    MultiMap<String, HazelcastRegistrationInfo> subscriptions =
        manager.getHazelcastInstance().getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);
    subscriptions.put(ADDRESS, GHOST);
    nodes.remove(b);
    await(b.close());
    awaitTrue("the pass after b left removed the gone node's subscription",
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
    return (RepairingClusterManager) ((VertxInternal) vertx).clusterManager();
  }

  private Vertx startNode(int hazelcastPort) throws Exception {
    PlatformConfig.Cluster cluster = new PlatformConfig.Cluster("hazelcast", MEMBERS, "127.0.0.1",
        hazelcastPort, 0, 5, Optional.empty());
    Vertx vertx = await(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(ClusterManagers.eventBus(cluster)))
        .withClusterManager(ClusterManagers.hazelcast(cluster))
        .buildClustered());
    nodes.add(vertx);
    return vertx;
  }

  private static void awaitTrue(String what, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.call()) {
      assertThat(System.nanoTime()).as(what + " within 30 s").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
