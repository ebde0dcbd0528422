package ai.deepchat.platform.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * vertx-hazelcast with a repair pass a little after members leave or the cluster merges.
 *
 * <p>Vert.x 5's node selector keeps, per address, the nodes it last heard serve it, and only a
 * Hazelcast entry event for that address changes it (it ignores {@code registrationsLost}). When that
 * event does not arrive, or when the members' cleanup misses a dropped node's entry, a node keeps
 * sending a share of its requests to a node that is gone, for good: CI saw it once after a frozen
 * node was dropped (one address in three requests timing out for 30 s). So each node, 2 s and again
 * 10 s after a change, removes subscriptions of nodes that are no longer members, and re-reads the
 * registrations of every address its selector holds. Both are what vertx-hazelcast meant to happen;
 * this makes them happen even when an event or a cleanup went missing.
 */
public class RepairingClusterManager extends HazelcastClusterManager {

  private static final Logger LOG = LoggerFactory.getLogger(RepairingClusterManager.class);
  /** vertx-hazelcast's map of event-bus subscriptions, and of the nodes' event-bus endpoints. */
  static final String SUBSCRIPTIONS = "__vertx.subs";
  static final String NODE_INFOS = "__vertx.nodeInfo";
  private static final long[] REPAIR_DELAYS_MS = {2_000, 10_000};

  private volatile Vertx vertx;
  private volatile RegistrationListener selector;
  /** One pass at a time; not this object's monitor, which Hazelcast's membership events take. */
  private final Object passes = new Object();
  /** Nodes whose subscriptions the last pass kept although they were not members (endpoint still published). */
  private Set<String> absentAtLastPass = Set.of();

  public RepairingClusterManager(Config config) {
    super(config);
  }

  @Override
  public void init(Vertx vertx) {
    this.vertx = vertx;
    super.init(vertx);
  }

  @Override
  public void registrationListener(RegistrationListener listener) {
    this.selector = listener;
    super.registrationListener(listener);
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    super.memberRemoved(event);
    scheduleRepair();
  }

  @Override
  public void stateChanged(LifecycleEvent event) {
    super.stateChanged(event);
    if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
      scheduleRepair();
    }
  }

  /** The node selector this manager feeds (tests hand it a stale view). */
  RegistrationListener selector() {
    return selector;
  }

  private void scheduleRepair() {
    Vertx v = vertx;
    if (v == null || !isActive()) {
      return;
    }
    for (long delay : REPAIR_DELAYS_MS) {
      v.setTimer(delay, id -> {
        if (isActive()) {
          v.executeBlocking(this::repair, false)
              .onFailure(err -> {
                if (isActive()) { // a pass cut short by this node leaving is no news
                  LOG.warn("event-bus subscription repair failed", err);
                }
              });
        }
      });
    }
  }

  /**
   * One repair pass (blocking: call it on a worker). Returns how many stale subscriptions it removed.
   * A subscription is stale when its node is not a member and has no published endpoint, or was
   * already absent at the previous pass: a node that rejoins publishes its endpoint before its
   * subscriptions, so those of a node on its way back are left alone.
   */
  int repair() throws Exception {
    synchronized (passes) {
      return isActive() ? repairPass() : 0;
    }
  }

  private int repairPass() throws Exception {
    HazelcastInstance hazelcast = getHazelcastInstance();
    MultiMap<String, HazelcastRegistrationInfo> subscriptions = hazelcast.getMultiMap(SUBSCRIPTIONS);
    Map<String, ?> endpoints = hazelcast.getMap(NODE_INFOS);
    Set<String> gone = new TreeSet<>();
    Set<String> kept = new TreeSet<>();
    int removed = 0;
    for (Map.Entry<String, HazelcastRegistrationInfo> entry : subscriptions.entrySet()) {
      String node = entry.getValue().unwrap().nodeId();
      if (getNodes().contains(node)) {
        continue;
      }
      if (!absentAtLastPass.contains(node) && endpoints.containsKey(node)) {
        kept.add(node);
      } else if (!getNodes().contains(node) && subscriptions.remove(entry.getKey(), entry.getValue())) {
        gone.add(node);
        removed++;
      }
    }
    absentAtLastPass = kept;
    if (removed > 0) {
      LOG.warn("removed {} event-bus subscriptions of nodes no longer in the cluster {}", removed, gone);
    }
    RegistrationListener listener = selector;
    if (listener != null) {
      for (String address : subscriptions.keySet()) {
        if (listener.wantsUpdatesFor(address)) {
          refresh(listener, address);
        }
      }
    }
    return removed;
  }

  /**
   * Hands the selector the address's current registrations. Reads again after handing them over: a
   * change in between has its own event, whose update may have landed before ours, so ours must not
   * be the last word when it is older.
   */
  private void refresh(RegistrationListener listener, String address) throws Exception {
    List<RegistrationInfo> current = registrations(address);
    for (int i = 0; i < 3; i++) {
      listener.registrationsUpdated(new RegistrationUpdateEvent(address, current));
      List<RegistrationInfo> again = registrations(address);
      if (new HashSet<>(again).equals(new HashSet<>(current))) {
        return;
      }
      current = again;
    }
  }

  /** The registrations as the selector would fetch them (cluster-wide and this node's local-only ones). */
  private List<RegistrationInfo> registrations(String address) throws Exception {
    Promise<List<RegistrationInfo>> found = Promise.promise();
    getRegistrations(address, found);
    return found.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
