package ai.deepchat.platform.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose route to an address missed an update while the cluster map is right (as on the larger
 * side of a merge in PartitionTest: the probe member never picked one merged node for
 * {@code platform.ping}, although that node's subscription was in the map): on real Hazelcast
 * members over loopback, a's route names b only while b and c serve the address. Once a member
 * joins, a's route is compared with the map within the self-check period and c is reached again.
 */
class RouteResyncTest {

  private static final String ADDRESS = "resync.test";
  /** The self-check period (5 s) plus room for a busy machine. */
  private static final Duration WITHIN = Duration.ofSeconds(20);

  private LoopbackCluster cluster;

  @AfterEach
  void close() throws Exception {
    cluster.close();
  }

  @Test
  void aRouteThatMissedAnUpdateIsComparedWithTheMapAfterAMemberJoins() throws Exception {
    int[] ports = freePorts(4);
    cluster = new LoopbackCluster(ports);
    Vertx a = cluster.start(ports[0]);
    Vertx b = cluster.start(ports[1]);
    Vertx c = cluster.start(ports[2]);
    await(b.eventBus().consumer(ADDRESS, msg -> msg.reply("b")).completion());
    await(c.eventBus().consumer(ADDRESS, msg -> msg.reply("c")).completion());
    until("a reaches b and c", Duration.ofSeconds(30), () -> repliers(a, 10).containsAll(List.of("b", "c")));

    // no check of the stale route here: a's comparisons already run (b and c joined), one may heal it
    // at once; this test fails without them (a never reaches c again), the next one checks the route
    staleRouteWithoutC((RepairingClusterManager) ClusterMembership.clusterManager(a));

    cluster.start(ports[3]); // a membership change: what the larger side sees of a merge
    until("a reaches c again", WITHIN, () -> repliers(a, 10).contains("c"));
    assertThat(repliers(a, 20)).containsOnly("b", "c");
  }

  @Test
  void onlyARouteThatDiffersFromTheMapIsHandedOver() throws Exception {
    int[] ports = freePorts(3);
    // no periodic tick during the test: each comparison is this test's call
    cluster = new LoopbackCluster(ports).selfCheckEvery(Duration.ofHours(1));
    Vertx a = cluster.start(ports[0]);
    Vertx b = cluster.start(ports[1]);
    Vertx c = cluster.start(ports[2]);
    await(b.eventBus().consumer(ADDRESS, msg -> msg.reply("b")).completion());
    await(c.eventBus().consumer(ADDRESS, msg -> msg.reply("c")).completion());
    RepairingClusterManager manager = (RepairingClusterManager) ClusterMembership.clusterManager(a);
    until("a's map has both", Duration.ofSeconds(30), () -> manager.getHazelcastInstance()
        .getMultiMap(RepairingClusterManager.SUBSCRIPTIONS).valueCount(ADDRESS) == 2);
    // a phase, not a wait for a condition: the entry events of b's and c's consumers reach a before
    // it first sends, so its route is one it reads for itself, never one handed over
    Thread.sleep(2_000);
    until("a reaches b and c", Duration.ofSeconds(30), () -> repliers(a, 10).containsAll(List.of("b", "c")));
    // that route agrees with the map: nothing to hand over
    assertThat(manager.resyncRoutes()).as("every route in line with the map").isZero();

    staleRouteWithoutC(manager);
    assertThat(repliers(a, 20)).as("a's route lost c, the map did not").containsOnly("b");
    assertThat(manager.resyncRoutes()).as("the stale route").isEqualTo(1);
    assertThat(repliers(a, 20)).containsOnly("b", "c");
    assertThat(manager.resyncRoutes()).as("nothing left to hand over").isZero();
  }

  /** Hands a's selector the address's subscribers without c's, as if the event that added c's went missing. */
  private void staleRouteWithoutC(RepairingClusterManager manager) throws Exception {
    Promise<List<RegistrationInfo>> live = Promise.promise();
    manager.getRegistrations(ADDRESS, live);
    List<RegistrationInfo> all = await(live.future());
    assertThat(all).hasSize(2);
    String cNode = ClusterMembership.clusterManager(cluster.node(2)).getNodeId();
    List<RegistrationInfo> withoutC = all.stream().filter(r -> !r.nodeId().equals(cNode)).toList();
    assertThat(withoutC).hasSize(1);
    manager.selector().registrationsUpdated(new RegistrationUpdateEvent(ADDRESS, withoutC));
  }

  /** Who answered {@code n} requests from {@code from} (a failed request answers "none"). */
  private static List<Object> repliers(Vertx from, int n) throws Exception {
    List<Future<Object>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      replies.add(from.eventBus().request(ADDRESS, "ping", new DeliveryOptions().setSendTimeout(2_000))
          .map(m -> m.body()));
    }
    Future.join(replies).otherwiseEmpty().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return replies.stream().map(f -> f.succeeded() ? f.result() : "none").toList();
  }

  private static int[] freePorts(int n) throws Exception {
    int[] ports = new int[n];
    for (int i = 0; i < n; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        ports[i] = s.getLocalPort();
      }
    }
    return ports;
  }
}
