package ai.deepchat.platform.cluster;

import ai.deepchat.platform.config.PlatformConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each node's self-check on two real Hazelcast members over loopback: node b's subscription or
 * endpoint removed from the cluster map behind its back (as a peer's late cleanup of b's id does) is
 * added again within the check period, so a's requests reach b's consumer again; a consumer b
 * withdrew or unregistered is left out.
 */
class SubscriptionSelfCheckTest {

  /** The period, plus room for Hazelcast's entry event, Vert.x's throttle and a busy machine. */
  private static final Duration HEALED_WITHIN =
      Duration.ofSeconds(PlatformConfig.Cluster.SELF_CHECK_SECONDS + 10);

  private static LoopbackCluster cluster;
  private static Vertx a;
  private static Vertx b;

  @BeforeAll
  static void start() throws Exception {
    cluster = LoopbackCluster.started(2);
    a = cluster.node(0);
    b = cluster.node(1);
  }

  @AfterAll
  static void close() throws Exception {
    cluster.close();
  }

  @Test
  void aSubscriptionRemovedBehindTheNodesBackIsAddedAgainWithinThePeriod() throws Exception {
    String address = "self-check.removed";
    serveOnB(address);

    List<HazelcastRegistrationInfo> removed = removeBsEntries(address);
    assertThat(removed).as("b's entry was in the map").isNotEmpty();
    assertThat(subscriptions().get(address)).as("gone from the map").isEmpty();

    // the map first: a's local copy of it may not have heard of the removal yet, so its requests
    // can still reach b before the heal
    until("b's entry is in the map again", HEALED_WITHIN,
        () -> subscriptions().get(address).containsAll(removed));
    assertThat(subscriptions().get(address)).containsExactlyInAnyOrderElementsOf(removed);
    until("a reaches b's consumer again", HEALED_WITHIN, () -> failures(address, 5) == 0);
    assertThat(failures(address, 20)).isZero();
  }

  @Test
  void aNodesEndpointRemovedFromTheMapIsPublishedAgain() throws Exception {
    String nodeId = ClusterMembership.clusterManager(b).getNodeId();
    var endpoints = hazelcast().getMap(RepairingClusterManager.NODE_INFOS);
    assertThat(endpoints.remove(nodeId)).isNotNull();

    until("b's endpoint is published again", HEALED_WITHIN, () -> endpoints.containsKey(nodeId));
  }

  @Test
  void aWithdrawnOrUnregisteredConsumerIsNotAddedAgain() throws Exception {
    String withdrawn = "self-check.withdrawn";
    String unregistered = "self-check.unregistered";
    serveOnB(withdrawn);
    MessageConsumer<Object> consumer = serveOnB(unregistered);

    await(NodeDrain.withdraw(b, withdrawn)); // as a draining node does: its handler stays, its route goes
    await(consumer.unregister());
    assertThat(subscriptions().get(withdrawn)).isEmpty();
    assertThat(subscriptions().get(unregistered)).isEmpty();

    RepairingClusterManager manager = (RepairingClusterManager) ClusterMembership.clusterManager(b);
    until("a check ran with nothing to add", Duration.ofSeconds(30),
        () -> await(manager.selfCheck().check()) == 0);
    assertThat(subscriptions().get(withdrawn)).as("withdrawn stays withdrawn").isEmpty();
    assertThat(subscriptions().get(unregistered)).as("unregistered stays gone").isEmpty();
  }

  /**
   * vertx-hazelcast's membership handler holds its cluster manager's lock while its cleanup scans the
   * map, 20 s and more while the partition table moves (FrozenNodeTest); a check meanwhile must not
   * wait for that lock on the event loop, which would stall every consumer on it. Before the fix the
   * check asked for the node's endpoint there, and the event loop stood still until the lock was let go.
   */
  @Test
  void aCheckWhileTheClusterManagerIsLockedLeavesTheEventLoopFree() throws Exception {
    RepairingClusterManager manager = (RepairingClusterManager) ClusterMembership.clusterManager(b);
    Context context = b.getOrCreateContext();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch locked = new CountDownLatch(1);
    Thread holder = new Thread(() -> {
      synchronized (manager) { // as vertx-hazelcast's memberRemoved does while its cleanup runs
        locked.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, "membership-handler");
    holder.start();
    try {
      assertThat(locked.await(10, TimeUnit.SECONDS)).isTrue();
      context.runOnContext(v -> manager.selfCheck().check());
      Thread.sleep(1_000); // a phase: the check's map reads (milliseconds) are done, its result handled
      CountDownLatch served = new CountDownLatch(1);
      context.runOnContext(v -> served.countDown());
      assertThat(served.await(3, TimeUnit.SECONDS)).as("the event loop serves while the lock is held").isTrue();
    } finally {
      release.countDown();
      holder.join(10_000);
    }
  }

  /** Registers a consumer on b and waits until a's requests reach it. */
  private static MessageConsumer<Object> serveOnB(String address) throws Exception {
    MessageConsumer<Object> consumer = b.eventBus().consumer(address, msg -> msg.reply("b"));
    await(consumer.completion());
    until("a reaches b's consumer on " + address, Duration.ofSeconds(30), () -> failures(address, 5) == 0);
    return consumer;
  }

  /** Removes b's registrations of {@code address} from the cluster map, through a's member; returns them. */
  private static List<HazelcastRegistrationInfo> removeBsEntries(String address) {
    String bId = ClusterMembership.clusterManager(b).getNodeId();
    List<HazelcastRegistrationInfo> removed = new ArrayList<>();
    for (HazelcastRegistrationInfo info : subscriptions().get(address)) {
      if (info.unwrap().nodeId().equals(bId) && subscriptions().remove(address, info)) {
        removed.add(info);
      }
    }
    return removed;
  }

  private static HazelcastInstance hazelcast() {
    return ((RepairingClusterManager) ClusterMembership.clusterManager(a)).getHazelcastInstance();
  }

  private static MultiMap<String, HazelcastRegistrationInfo> subscriptions() {
    return hazelcast().getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);
  }

  /** How many of {@code n} requests from a to {@code address} got no reply. */
  private static int failures(String address, int n) throws Exception {
    List<Future<Object>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      replies.add(a.eventBus().request(address, "ping", new DeliveryOptions().setSendTimeout(1_000))
          .map(m -> m.body()));
    }
    Future.join(replies).otherwiseEmpty().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return (int) replies.stream().filter(Future::failed).count();
  }
}
