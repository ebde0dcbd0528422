package ai.deepchat.platform.cluster;

import ai.deepchat.platform.metrics.PlatformMetrics;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Completable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A node's check that the cluster still routes to it: every cluster-visible consumer it registered
 * is in the cluster's subscription map under its own node id, and its event-bus endpoint is published.
 * What is missing is added again through the cluster manager, logged once per heal and counted
 * ({@code deepchat_cluster_subscriptions_healed_total}).
 *
 * <p>Why: vertx-hazelcast re-publishes a node's subscriptions once, when a member leaves or the
 * cluster merges; a peer's cleanup of a node id that runs late (after that node came back from a
 * split), or a partition whose replicas were all on dropped members, removes them again afterwards,
 * and then no peer can reach the node's consumers until it restarts. Reads only this node's own
 * addresses (one map read each, on a worker thread), so a tick where nothing is missing is cheap; a
 * check still stuck on the cluster makes the next tick skip, not queue.
 */
final class SubscriptionSelfCheck {

  private static final Logger LOG = LoggerFactory.getLogger(SubscriptionSelfCheck.class);

  private final Vertx vertx;
  private final ClusterManager cluster;
  private final Publisher publisher;
  private final Supplier<HazelcastInstance> hazelcast;
  private final long periodMs;
  /** This node's cluster-visible registrations by address: true once their first publication completed. */
  private final Map<String, Map<RegistrationInfo, Boolean>> own = new ConcurrentHashMap<>();
  private final AtomicBoolean checking = new AtomicBoolean();
  private volatile long timer = -1;

  /** Puts a registration in the cluster map without it counting as a new one of this node's. */
  @FunctionalInterface
  interface Publisher {
    void publish(String address, RegistrationInfo info, Completable<Void> promise);
  }

  SubscriptionSelfCheck(Vertx vertx, ClusterManager cluster, Publisher publisher,
                        Supplier<HazelcastInstance> hazelcast, long periodMs) {
    this.vertx = vertx;
    this.cluster = cluster;
    this.publisher = publisher;
    this.hazelcast = hazelcast;
    this.periodMs = periodMs;
  }

  /** Vert.x registers {@code info}: checked from when {@code published} completes, unless withdrawn first. */
  void registering(String address, RegistrationInfo info, Future<Void> published) {
    if (info.localOnly()) {
      return;
    }
    own.compute(address, (a, infos) -> { // atomic with removing(), which drops an address's emptied map
      Map<RegistrationInfo, Boolean> all = infos != null ? infos : new ConcurrentHashMap<>();
      all.put(info, false);
      return all;
    });
    published.onSuccess(v -> own.computeIfPresent(address, (a, infos) -> {
      infos.replace(info, false, true);
      return infos;
    }));
  }

  /** {@code info} is withdrawn (its consumer unregistered, or the node drains): no longer ours to keep. */
  void removing(String address, RegistrationInfo info) {
    own.computeIfPresent(address, (a, infos) -> {
      infos.remove(info);
      return infos.isEmpty() ? null : infos;
    });
  }

  void start() {
    timer = vertx.setPeriodic(periodMs, id -> check());
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  /** Checks once after {@code delayMs} besides the period (after a membership change). */
  void checkAfter(long delayMs) {
    vertx.setTimer(delayMs, id -> check());
  }

  /** Re-adds what is missing; completes with how many registrations it re-added (0 when it skipped). */
  Future<Integer> check() {
    if (!cluster.isActive() || !checking.compareAndSet(false, true)) {
      return Future.succeededFuture(0);
    }
    return vertx.executeBlocking(this::missing, false)
        .compose(this::heal)
        .andThen(ar -> checking.set(false))
        .onFailure(err -> {
          if (cluster.isActive()) { // one cut short by this node leaving is no news
            LOG.warn("check of this node's event-bus subscriptions failed", err);
          }
        });
  }

  /** Registrations of this node's consumers that the cluster map lacks (blocking: a read per own address). */
  private Missing missing() {
    HazelcastInstance hz = hazelcast.get();
    MultiMap<String, HazelcastRegistrationInfo> subscriptions = hz.getMultiMap(RepairingClusterManager.SUBSCRIPTIONS);
    List<Map.Entry<String, RegistrationInfo>> missing = new ArrayList<>();
    for (Map.Entry<String, Map<RegistrationInfo, Boolean>> entry : own.entrySet()) {
      List<RegistrationInfo> published = entry.getValue().entrySet().stream()
          .filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
      if (published.isEmpty()) {
        continue;
      }
      var present = subscriptions.get(entry.getKey());
      for (RegistrationInfo info : published) {
        if (!present.contains(new HazelcastRegistrationInfo(info))) {
          missing.add(Map.entry(entry.getKey(), info));
        }
      }
    }
    boolean endpoint = hz.getMap(RepairingClusterManager.NODE_INFOS).containsKey(cluster.getNodeId());
    // read here, not on the event loop: vertx-hazelcast's getNodeInfo() waits for its membership
    // handler, whose cleanup can take 20 s and more while the partition table moves
    return new Missing(missing, endpoint ? null : cluster.getNodeInfo());
  }

  /** {@code endpoint}: this node's endpoint to publish again, null when the map has it. */
  private record Missing(List<Map.Entry<String, RegistrationInfo>> registrations, NodeInfo endpoint) {
  }

  private Future<Integer> heal(Missing missing) {
    List<Future<Void>> adds = new ArrayList<>();
    Set<String> addresses = new TreeSet<>();
    if (missing.endpoint() != null) {
      Promise<Void> put = Promise.promise();
      // on a worker: setNodeInfo also waits for vertx-hazelcast's membership handler
      vertx.executeBlocking(() -> {
        cluster.setNodeInfo(missing.endpoint(), put);
        return null;
      }, false).onFailure(put::tryFail);
      adds.add(put.future());
    }
    for (Map.Entry<String, RegistrationInfo> m : missing.registrations()) {
      adds.add(readd(m.getKey(), m.getValue()));
      addresses.add(m.getKey());
    }
    if (adds.isEmpty()) {
      return Future.succeededFuture(0);
    }
    int healed = missing.registrations().size();
    if (healed > 0) {
      LOG.warn("re-added {} of this node's event-bus subscriptions missing from the cluster map {}", healed, addresses);
    }
    if (missing.endpoint() != null) {
      LOG.warn("re-published this node's event-bus endpoint, missing from the cluster map");
    }
    PlatformMetrics.get().clusterSubscriptionsHealed(healed + (missing.endpoint() != null ? 1 : 0));
    return Future.all(adds).map(healed);
  }

  /**
   * Adds {@code info} again; if it was withdrawn meanwhile (its removal may have reached the map
   * before this add), removes it again so no route is left to a consumer that is gone.
   */
  private Future<Void> readd(String address, RegistrationInfo info) {
    Promise<Void> added = Promise.promise();
    publisher.publish(address, info, added);
    return added.future().compose(v -> {
      Map<RegistrationInfo, Boolean> infos = own.get(address);
      if (infos != null && infos.containsKey(info)) {
        return Future.succeededFuture();
      }
      Promise<Void> removed = Promise.promise();
      cluster.removeRegistration(address, info, removed);
      return removed.future();
    });
  }
}
