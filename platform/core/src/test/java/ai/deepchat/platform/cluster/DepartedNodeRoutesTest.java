package ai.deepchat.platform.cluster;

import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node that drops out of the cluster while the members' cleanup of its subscriptions is stuck, as in
 * FrozenNodeTest's failing runs: after the frozen master was dropped, vertx-hazelcast's membership
 * handler (a scan of every partition, under the cluster manager's lock) waited 20 s and more for the
 * partition table to settle, the map kept naming the frozen node, and the repair passes only began
 * once the handler returned. Here, on three real members over loopback, the test holds a's and b's
 * cluster-manager locks (so their handlers wait, as behind a stuck scan), c stops answering and its
 * Hazelcast member is terminated: within seconds a's requests reach b only. Before the fix a kept
 * sending half of them to c until the handlers were let go.
 */
class DepartedNodeRoutesTest {

  private static final String ADDRESS = "departed.test";
  /** Well before the repair's second sweep (5 s), the first that may remove c's subscription. */
  private static final Duration WITHIN = Duration.ofSeconds(4);

  private LoopbackCluster cluster;

  @AfterEach
  void close() throws Exception {
    cluster.close();
  }

  @Test
  void aNodeThatLeftIsDroppedFromRoutesWhileTheCleanupOfItsSubscriptionsIsStuck() throws Exception {
    cluster = LoopbackCluster.started(3);
    Vertx a = cluster.node(0);
    Vertx b = cluster.node(1);
    Vertx c = cluster.node(2);
    AtomicBoolean cFrozen = new AtomicBoolean();
    await(b.eventBus().consumer(ADDRESS, msg -> msg.reply("b")).completion());
    await(c.eventBus().consumer(ADDRESS, msg -> {
      if (!cFrozen.get()) {
        msg.reply("c");
      }
    }).completion());
    until("a reaches b and c", Duration.ofSeconds(30), () -> repliers(a, 10).containsAll(List.of("b", "c")));

    RepairingClusterManager aManager = manager(a);
    String cNode = manager(c).getNodeId();
    CountDownLatch release = new CountDownLatch(1);
    Thread holder = holdLocks(release, aManager, manager(b));
    try {
      cFrozen.set(true);
      manager(c).getHazelcastInstance().getLifecycleService().terminate(); // its subscriptions stay in the map
      until("a sees c leave", Duration.ofSeconds(30), () -> !aManager.getNodes().contains(cNode));
      long left = System.nanoTime();
      MultiMap<String, HazelcastRegistrationInfo> subscriptions =
          aManager.getHazelcastInstance().getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);
      assertThat(subscriptions.get(ADDRESS)).as("the cleanup is stuck: the map still names c")
          .anyMatch(r -> r.unwrap().nodeId().equals(cNode));

      until("a's requests reach b only", WITHIN, () -> repliers(a, 10).stream().allMatch("b"::equals));
      System.out.printf("a's route left c out %d ms after a saw it leave%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - left));
      assertThat(repliers(a, 20)).containsOnly("b");
    } finally {
      release.countDown();
      holder.join(10_000);
      try {
        cluster.stop(c);
      } catch (Exception e) {
        // its Hazelcast member is gone, so leaving the cluster fails
      }
    }
  }

  /** Holds the cluster managers' locks (vertx-hazelcast's membership handlers take them) until released. */
  private static Thread holdLocks(CountDownLatch release, Object first, Object second) throws InterruptedException {
    CountDownLatch held = new CountDownLatch(1);
    Thread holder = new Thread(() -> {
      synchronized (first) {
        synchronized (second) {
          held.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    }, "stuck-cleanup");
    holder.start();
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
    return holder;
  }

  private static RepairingClusterManager manager(Vertx vertx) {
    return (RepairingClusterManager) ClusterMembership.clusterManager(vertx);
  }

  /** Who answered {@code n} requests from {@code from} (a request without a reply within 1 s answers "none"). */
  private static List<Object> repliers(Vertx from, int n) throws Exception {
    List<Future<Object>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      replies.add(from.eventBus().request(ADDRESS, "ping", new DeliveryOptions().setSendTimeout(1_000))
          .map(m -> m.body()));
    }
    Future.join(replies).otherwiseEmpty().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return replies.stream().map(f -> f.succeeded() ? f.result() : "none").toList();
  }
}
