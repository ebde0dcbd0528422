package ai.deepchat.platform.cluster;

import ai.deepchat.platform.metrics.PlatformMetrics;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.config.Config;
import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Completable;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * vertx-hazelcast with event-bus routes repaired a little after members leave or the cluster merges.
 *
 * <p>Vert.x 5's node selector keeps, per address, the nodes it last heard serve it, and only a
 * Hazelcast entry event for that address changes it (it ignores {@code registrationsLost}). When that
 * event does not arrive, or when the members' cleanup of a dropped node fails part way (its scan of
 * every partition meets a partition table still moving: "Not Member! ... PartitionIteratingOperation"),
 * a node keeps sending a share of its requests to a node that is gone, for good. So from 2 s after a
 * change each node, at least until 20 s and then until its routes hold members only (at most 2 min):
 * <ul>
 *   <li>re-reads the subscribers of every address its selector holds, one address at a time with a
 *   short timeout (the addresses come from watching the map, not from scanning it);</li>
 *   <li>after a member left, removes subscriptions of nodes that are no longer members (a scan of
 *   every partition, which can hang while the partition table moves, so it runs on its own).</li>
 * </ul>
 * Each runs on a worker thread; one still stuck on the cluster makes the next one skip, not queue.
 * On a loaded machine every read of a fixed few passes can time out, which left routes stale; hence
 * the passes go on while a route still names a node that is not a member.
 *
 * <p>Besides, for {@link #RESYNC_WINDOW_MS} after any membership change (a member joining included:
 * on the larger side of a merge that is all a node hears), each self-check period compares every
 * route the selector holds with the map and hands over those that differ ({@link #resyncRoutes}).
 *
 * <p>Besides, the node keeps its own subscriptions in the map ({@link SubscriptionSelfCheck}): it
 * tracks the registrations Vert.x makes and withdraws through this manager.
 *
 * <p>And routes leave out a node that left as soon as its departure is heard, before any of that
 * ({@link HandedRoutes}): vertx-hazelcast removes the departed node's subscriptions in its membership
 * handler with a scan of every partition, which after the master is lost waits for the partition
 * table to settle (20 s and more on a loaded host), and the passes above began only after it; all
 * that time every read of the map named the departed node, and a share of requests went to it.
 */
class RepairingClusterManager extends HazelcastClusterManager {

  private static final Logger LOG = LoggerFactory.getLogger(RepairingClusterManager.class);
  /** vertx-hazelcast's map of event-bus subscriptions, and of the nodes' event-bus endpoints. */
  static final String SUBSCRIPTIONS = "__vertx.subs";
  static final String NODE_INFOS = "__vertx.nodeInfo";
  /** When passes run after a change; those after {@link #SETTLE_AFTER_MS} only while routes are unsettled. */
  private static final long[] REPAIR_DELAYS_MS = {2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000,
      80_000, 100_000, 120_000};
  private static final long SETTLE_AFTER_MS = 20_000;
  private static final long READ_TIMEOUT_MS = 2_000;
  /** How long after a membership change each self-check period also compares the routes with the map. */
  static final long RESYNC_WINDOW_MS = 180_000;
  /** How long a departed node's id is remembered (its leftover subscriptions are swept long before). */
  private static final long DEPARTED_FOR_MS = 600_000;
  /** A membership handler of vertx-hazelcast slower than this is logged. */
  private static final long SLOW_CLEANUP_MS = 5_000;

  private final long selfCheckPeriodMs;
  private volatile Vertx vertx;
  private volatile HandedRoutes selector;
  private volatile SubscriptionSelfCheck selfCheck;
  /** Every address that has had a subscription since this node joined: the routes it may hold. */
  private final Set<String> addresses = ConcurrentHashMap.newKeySet();
  private final ReentrantLock refreshing = new ReentrantLock();
  private final ReentrantLock sweeping = new ReentrantLock();
  /** Nodes whose subscriptions the last sweep kept although they were not members (endpoint still published). */
  private Set<String> absentAtLastSweep = Set.of();
  /** Whether the last refresh read every route it holds and found members only. */
  private volatile boolean routesSettled;
  /** When (nanoTime) membership last changed, as this node saw it; routes are compared with the map until a window after. */
  private volatile long changedAt = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(RESYNC_WINDOW_MS);
  private volatile long resyncTimer = -1;
  /** Nodes that left (node id to when, nanoTime): routes leave them out until they are members again. */
  private final Map<String, Long> departed = new ConcurrentHashMap<>();

  /** {@code selfCheckPeriod}: how often the node checks that the cluster map holds its own subscriptions. */
  RepairingClusterManager(Config config, Duration selfCheckPeriod) {
    super(config);
    this.selfCheckPeriodMs = selfCheckPeriod.toMillis();
  }

  @Override
  public void init(Vertx vertx) {
    this.vertx = vertx;
    selfCheck = new SubscriptionSelfCheck(vertx, this, super::addRegistration, this::getHazelcastInstance,
        selfCheckPeriodMs);
    super.init(vertx);
  }

  @Override
  public void addRegistration(String address, RegistrationInfo info, Completable<Void> promise) {
    Promise<Void> published = Promise.promise();
    selfCheck.registering(address, info, published.future());
    super.addRegistration(address, info, published);
    published.future().onComplete(promise);
  }

  @Override
  public void removeRegistration(String address, RegistrationInfo info, Completable<Void> promise) {
    selfCheck.removing(address, info);
    super.removeRegistration(address, info, promise);
  }

  /** This node's check of its own subscriptions (tests run it without waiting for the period). */
  SubscriptionSelfCheck selfCheck() {
    return selfCheck;
  }

  @Override
  public void join(Completable<Void> promise) {
    super.join((v, err) -> {
      if (err != null) {
        promise.fail(err);
        return;
      }
      vertx.executeBlocking(() -> {
        watchAddresses();
        return null;
      }, false).onComplete((ok, watchErr) -> {
        if (watchErr != null) {
          LOG.warn("event-bus route repair off: could not watch the subscription map", watchErr);
        }
        selfCheck.start();
        resyncTimer = vertx.setPeriodic(selfCheckPeriodMs, id -> resyncSoonAfterChange());
        promise.succeed();
      });
    });
  }

  private void watchAddresses() {
    MultiMap<String, HazelcastRegistrationInfo> subscriptions = getHazelcastInstance().getMultiMap(SUBSCRIPTIONS);
    subscriptions.addEntryListener(new EntryAdapter<>() {
      @Override
      public void entryAdded(EntryEvent<String, HazelcastRegistrationInfo> event) {
        addresses.add(event.getKey());
      }
    }, false);
    addresses.addAll(subscriptions.keySet());
  }

  @Override
  public void registrationListener(RegistrationListener listener) {
    HandedRoutes routes = new HandedRoutes(listener, this::departed);
    this.selector = routes;
    super.registrationListener(routes);
  }

  @Override
  public void leave(Completable<Void> promise) {
    selfCheck.stop();
    vertx.cancelTimer(resyncTimer);
    super.leave(promise);
  }

  /**
   * A member joined: on the larger side of a merge this is all a node hears (the merging side gets
   * {@code MERGED}), and an entry event of the merged nodes' subscriptions can go missing there too.
   */
  @Override
  public void memberAdded(MembershipEvent event) {
    String nodeId = event.getMember().getAttribute(ClusterMembership.NODE_ID_ATTRIBUTE);
    if (nodeId != null) {
      departed.remove(nodeId); // back after a split: its routes are added again by the next update or comparison
    }
    super.memberAdded(event);
    membershipChanged();
  }

  /** Whether {@code nodeId} left the cluster and is not a member again. */
  private boolean departed(String nodeId) {
    return departed.containsKey(nodeId) && isActive() && !getNodes().contains(nodeId);
  }

  private void membershipChanged() {
    changedAt = System.nanoTime();
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    // all before super: its cleanup scans every partition and can hang for tens of seconds while the
    // partition table moves (20 s seen in FrozenNodeTest after the master froze), and its
    // re-publication of this node's subscriptions waits behind it; so would routes and repair passes
    membershipChanged();
    checkOwnSubscriptionsSoon();
    String nodeId = event.getMember().getAttribute(ClusterMembership.NODE_ID_ATTRIBUTE);
    if (nodeId != null) {
      dropRoutesTo(nodeId);
    }
    scheduleRepair(true);
    long start = System.nanoTime();
    super.memberRemoved(event);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    if (tookMs > SLOW_CLEANUP_MS && isActive()) {
      LOG.warn("vertx-hazelcast's cleanup after node {} left took {} ms", nodeId, tookMs);
    }
  }

  /** Remembers {@code nodeId} as departed and hands the selector every route naming it without it. */
  private void dropRoutesTo(String nodeId) {
    long now = System.nanoTime();
    departed.values().removeIf(at -> now - at > TimeUnit.MILLISECONDS.toNanos(DEPARTED_FOR_MS));
    departed.put(nodeId, now);
    HandedRoutes routes = selector;
    int dropped = routes != null ? routes.dropNode(nodeId) : 0;
    if (dropped > 0) {
      LOG.info("dropped node {}, which left the cluster, from the event-bus routes of {} addresses", nodeId, dropped);
    }
  }

  @Override
  public void stateChanged(LifecycleEvent event) {
    if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
      departed.keySet().removeAll(getNodes()); // the merging side hears no memberAdded of those it joins
      membershipChanged();
      checkOwnSubscriptionsSoon();
    }
    super.stateChanged(event);
    if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
      scheduleRepair(false);
    }
  }

  /**
   * Once the peers' cleanup of a change has run (a few seconds), and again once a split the change
   * began could have merged back: then a late cleanup of this node's id is the likeliest.
   */
  private void checkOwnSubscriptionsSoon() {
    if (vertx != null && isActive()) {
      selfCheck.checkAfter(2_000);
      selfCheck.checkAfter(TimeUnit.SECONDS.toMillis(ClusterManagers.MERGE_DELAY_SECONDS + 2));
    }
  }

  /**
   * The selector reads an address's subscribers here when it first sends to it (and after it dropped
   * the route); noted as what it holds unless something was handed to it since, so that a route it
   * read for itself is not counted as one that missed an update.
   */
  @Override
  public void getRegistrations(String address, Completable<List<RegistrationInfo>> promise) {
    super.getRegistrations(address, (found, err) -> {
      HandedRoutes routes = selector;
      List<RegistrationInfo> live = found;
      if (err == null && routes != null) {
        live = routes.live(found);
        routes.read(address, live);
      }
      promise.complete(live, err);
    });
  }

  /** The node selector this manager feeds (tests hand it a stale view). */
  RegistrationListener selector() {
    return selector;
  }

  /** A self-check period's tick: within {@link #RESYNC_WINDOW_MS} of a membership change, compares routes with the map. */
  private void resyncSoonAfterChange() {
    Vertx v = vertx;
    if (v != null && isActive()
        && System.nanoTime() - changedAt < TimeUnit.MILLISECONDS.toNanos(RESYNC_WINDOW_MS)) {
      runBlocking(v, this::resyncRoutes, "comparison of event-bus routes with the cluster map");
    }
  }

  /**
   * Hands the selector the current subscribers of each address it holds whose route differs from
   * them (blocking: call it on a worker); returns how many. Unlike {@link #refreshRoutes} an address
   * whose route agrees with the map is left alone, so a pass where nothing was missed costs one read
   * per address. Catches what the passes right after a change cannot: an entry event lost later, e.g.
   * when merged nodes re-publish their subscriptions a minute after the merge. Skips (returns 0) while
   * a refresh runs.
   */
  int resyncRoutes() throws InterruptedException {
    HandedRoutes routes = selector;
    if (routes == null || !refreshing.tryLock()) {
      return 0;
    }
    try {
      Set<String> stale = new TreeSet<>();
      for (String address : addresses) {
        if (!isActive() || !routes.wantsUpdatesFor(address)) {
          continue;
        }
        List<RegistrationInfo> current = registrations(address);
        if (current != null && !routes.holds(address, current)) {
          refresh(routes, address, current);
          stale.add(address);
        }
      }
      if (!stale.isEmpty()) {
        LOG.info("refreshed the event-bus routes of {} addresses that differed from the cluster map {}",
            stale.size(), stale);
        PlatformMetrics.get().clusterRoutesRefreshed(stale.size());
      }
      return stale.size();
    } finally {
      refreshing.unlock();
    }
  }

  private void scheduleRepair(boolean sweep) {
    Vertx v = vertx;
    if (v == null || !isActive()) {
      return;
    }
    for (long delay : REPAIR_DELAYS_MS) {
      v.setTimer(delay, id -> {
        if (!isActive() || (delay > SETTLE_AFTER_MS && routesSettled)) {
          return;
        }
        runBlocking(v, this::refreshRoutes, "refresh of event-bus routes");
        if (sweep) {
          runBlocking(v, this::sweep, "sweep of event-bus subscriptions");
        }
      });
    }
  }

  private void runBlocking(Vertx v, Callable<Integer> task, String what) {
    v.executeBlocking(task, false).onFailure(err -> {
      if (isActive()) { // one cut short by this node leaving is no news
        LOG.warn("{} failed", what, err);
      }
    });
  }

  /**
   * Hands the selector the current subscribers of every address it holds (blocking: call it on a
   * worker); returns how many addresses it refreshed. An address whose subscribers cannot be read
   * within {@link #READ_TIMEOUT_MS} is left for the next pass. Reads again after handing them over: a
   * change in between has its own event, whose update may have landed before ours, so ours must not
   * be the last word when it is older. Skips (returns 0) while another refresh runs.
   */
  int refreshRoutes() throws InterruptedException {
    RegistrationListener listener = selector;
    if (listener == null || !refreshing.tryLock()) {
      return 0;
    }
    try {
      int refreshed = 0;
      boolean settled = true;
      for (String address : addresses) {
        if (isActive() && listener.wantsUpdatesFor(address)) {
          List<RegistrationInfo> handed = refresh(listener, address);
          if (handed == null) {
            settled = false;
          } else {
            refreshed++;
            settled &= membersOnly(handed);
          }
        }
      }
      routesSettled = settled;
      return refreshed;
    } finally {
      refreshing.unlock();
    }
  }

  /** Hands the selector the address's subscribers; returns those it handed last, or null if none could be read. */
  private List<RegistrationInfo> refresh(RegistrationListener listener, String address) throws InterruptedException {
    return refresh(listener, address, registrations(address));
  }

  /** Hands the selector {@code current}, then the subscribers as read again while they change (at most 3 times). */
  private List<RegistrationInfo> refresh(RegistrationListener listener, String address, List<RegistrationInfo> current)
      throws InterruptedException {
    for (int i = 0; i < 3 && current != null; i++) {
      listener.registrationsUpdated(new RegistrationUpdateEvent(address, current));
      List<RegistrationInfo> again = registrations(address);
      if (again == null || new HashSet<>(again).equals(new HashSet<>(current))) {
        return current;
      }
      current = again;
    }
    return current;
  }

  private boolean membersOnly(List<RegistrationInfo> registrations) {
    Set<String> members = new HashSet<>(getNodes());
    return registrations.stream().allMatch(r -> members.contains(r.nodeId()));
  }

  /** Whether the last refresh read every route this node holds and each named members only. */
  boolean routesSettled() {
    return routesSettled;
  }

  /** The subscribers as the selector would read them (cluster-wide and local-only), or null if that takes too long. */
  private List<RegistrationInfo> registrations(String address) throws InterruptedException {
    Promise<List<RegistrationInfo>> found = Promise.promise();
    super.getRegistrations(address, found); // not as the selector's read: this one is not handed to it yet
    try {
      return found.future().toCompletionStage().toCompletableFuture().get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return null;
    }
  }

  /**
   * Removes subscriptions of nodes that are not members (blocking: call it on a worker); returns how
   * many. A node's are removed at once when its endpoint is gone, else at the next sweep if it is
   * still absent then: a node that rejoins publishes its endpoint before its subscriptions, so those
   * of a node on its way back are left alone. Skips (returns 0) while another sweep runs.
   */
  int sweep() {
    if (!sweeping.tryLock()) {
      return 0;
    }
    try {
      return isActive() ? sweepNow() : 0;
    } finally {
      sweeping.unlock();
    }
  }

  private int sweepNow() {
    HazelcastInstance hazelcast = getHazelcastInstance();
    MultiMap<String, HazelcastRegistrationInfo> subscriptions = hazelcast.getMultiMap(SUBSCRIPTIONS);
    Map<String, ?> endpoints = hazelcast.getMap(NODE_INFOS);
    Set<String> members = new HashSet<>(getNodes());
    Set<String> gone = new TreeSet<>();
    Set<String> kept = new TreeSet<>();
    int removed = 0;
    for (Map.Entry<String, HazelcastRegistrationInfo> entry : subscriptions.entrySet()) {
      String node = entry.getValue().unwrap().nodeId();
      if (members.contains(node)) {
        continue;
      }
      if (!absentAtLastSweep.contains(node) && endpoints.containsKey(node)) {
        kept.add(node);
      } else if (!getNodes().contains(node) // it may have rejoined since the sweep began
          && subscriptions.remove(entry.getKey(), entry.getValue())) {
        gone.add(node);
        removed++;
      }
    }
    absentAtLastSweep = kept;
    if (removed > 0) {
      LOG.warn("removed {} event-bus subscriptions of nodes no longer in the cluster {}", removed, gone);
    }
    return removed;
  }
}
