package ai.deepchat.failover;

import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.cluster.ClusterMembership;
import ai.deepchat.platform.cluster.ClusterMessages.ReachReport;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import com.hazelcast.multimap.MultiMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastRegistrationInfo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request/reply probes over a cluster's event bus: for each request/reply address of the platform, a
 * body its consumer answers at once without side effects (most are refused as malformed; a refusal
 * still proves a live consumer got it). A probe fails when no reply comes (a stale subscription of a
 * node that is gone) or no consumer is known.
 */
final class BusProbe {

  /** The addresses pipeline nodes serve. */
  static final Map<String, Object> PIPELINE = Map.of(
      Addresses.CHAT_TURN, new TurnRequest(null, "probe", null, null, null, null, List.of(), null, null, null),
      Addresses.CHAT_ROUTE, new RouteRequest("probe", "probe"));
  /** The address workers serving the bundled test model answer (an empty prompt is refused). */
  static final Map<String, Object> WORKER = Map.of(Addresses.engineGenerate(TinyTestModel.MODEL_KEY),
      new GenerateRequest("probe", "probe", TinyTestModel.MODEL_KEY, List.of(), SamplingParams.greedy(1), "nowhere"));
  /** Every node answers pings. */
  static final Map<String, Object> EVERY_NODE = Map.of(Addresses.PLATFORM_PING, "probe");

  private BusProbe() {
  }

  static Map<String, Object> addresses(List<Map<String, Object>> groups) {
    Map<String, Object> all = new LinkedHashMap<>();
    groups.forEach(all::putAll);
    return all;
  }

  /** Sends {@code perAddress} requests to each address at once; returns the failures by address (empty: all reached). */
  static Map<String, List<String>> failures(Vertx probe, Map<String, Object> addresses, int perAddress,
                                            Duration timeout) throws Exception {
    Map<String, List<Future<Object>>> sent = new LinkedHashMap<>();
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeout.toMillis());
    addresses.forEach((address, body) -> {
      List<Future<Object>> replies = new ArrayList<>();
      for (int i = 0; i < perAddress; i++) {
        replies.add(probe.eventBus().request(address, body, options).map(m -> (Object) m.body())
            .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
                ? Future.succeededFuture("refused") : Future.failedFuture(err)));
      }
      sent.put(address, replies);
    });
    Future.join(sent.values().stream().flatMap(List::stream).toList()).otherwiseEmpty()
        .toCompletionStage().toCompletableFuture().get(timeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
    Map<String, List<String>> failed = new LinkedHashMap<>();
    sent.forEach((address, replies) -> replies.stream().filter(Future::failed).forEach(f ->
        failed.computeIfAbsent(address, a -> new ArrayList<>()).add(f.cause().getMessage())));
    return failed;
  }

  /**
   * Has each node send {@code perAddress} requests to each address itself (its reach check), all at
   * once; returns the failures by "node -> address" (empty: every node reached every address's live
   * consumers). The probe member only relays: what is tested is each node's own view and links.
   */
  static Map<String, List<String>> failuresFromEachNode(Vertx probe, Set<Object> nodeIds, Map<String, Object> addresses,
                                                        int perAddress, Duration timeout) throws Exception {
    Map<String, Future<ReachReport>> reports = new LinkedHashMap<>();
    for (Object node : nodeIds) {
      addresses.forEach((address, body) -> reports.put(node + " -> " + address, probe.eventBus()
          .<ReachReport>request(Addresses.platformReach(node.toString()), body, new DeliveryOptions()
              .setSendTimeout(timeout.toMillis() + 10_000).addHeader(Addresses.REACH_ADDRESS, address)
              .addHeader(Addresses.REACH_COUNT, String.valueOf(perAddress))
              .addHeader(Addresses.REACH_TIMEOUT_MS, String.valueOf(timeout.toMillis())))
          .map(m -> m.body())));
    }
    Future.join(new ArrayList<>(reports.values())).otherwiseEmpty()
        .toCompletionStage().toCompletableFuture().get(timeout.toMillis() + 40_000, TimeUnit.MILLISECONDS);
    Map<String, List<String>> failed = new LinkedHashMap<>();
    reports.forEach((what, report) -> {
      if (report.failed()) {
        failed.put(what, List.of("the node's reach check failed: " + report.cause().getMessage()));
      } else if (!report.result().errors().isEmpty()) {
        failed.put(what, report.result().errors());
      }
    });
    return failed;
  }

  /** Waits until every node reaches every address ({@link #failuresFromEachNode}); fails with the last round's failures. */
  static void awaitCleanFromEachNode(Vertx probe, Set<Object> nodeIds, Map<String, Object> addresses, int seconds,
                                     Duration timeout) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Map<String, List<String>> failures = failuresFromEachNode(probe, nodeIds, addresses, 20, timeout);
    while (!failures.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(500);
      failures = failuresFromEachNode(probe, nodeIds, addresses, 20, timeout);
    }
    assertThat(failures).as("every node reaches every address's consumers within %d s", seconds).isEmpty();
  }

  /** Members of the cluster as the probe sees them, itself included. */
  static int members(Vertx probe) {
    return ClusterMembership.clusterManager(probe).getNodes().size();
  }

  /** Waits until a round of 10 probes per address all reach live consumers; fails with the last round's failures. */
  static void awaitClean(Vertx probe, Map<String, Object> addresses, int seconds, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Map<String, List<String>> failures = failures(probe, addresses, 10, timeout);
    while (!failures.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(200);
      failures = failures(probe, addresses, 10, timeout);
    }
    if (!failures.isEmpty()) {
      assertThat(failures).as("probes still failing after %d s (%s)", seconds,
          registrations(probe, failures.keySet())).isEmpty();
    }
  }

  /**
   * The cluster map's registrations of each address by node id, beside the members: tells a stale
   * map entry from a stale selector. Read from the map itself: the cluster manager's reads leave out
   * nodes that left, as the routes do.
   */
  private static String registrations(Vertx probe, Set<String> addresses) throws Exception {
    HazelcastClusterManager manager = (HazelcastClusterManager) ClusterMembership.clusterManager(probe);
    MultiMap<String, HazelcastRegistrationInfo> map = manager.getHazelcastInstance().getMultiMap("__vertx.subs");
    StringBuilder out = new StringBuilder("members " + manager.getNodes());
    for (String address : addresses) {
      out.append("; ").append(address).append(" -> ")
          .append(map.get(address).stream().map(r -> r.unwrap().nodeId()).toList());
    }
    return out.toString();
  }

  /** The node ids that answer {@code n} pings (round-robin over the nodes that serve the address). */
  static Set<Object> pingers(Vertx probe, int n, Duration timeout) throws Exception {
    List<Future<Object>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      replies.add(probe.eventBus().request(Addresses.PLATFORM_PING, "probe",
          new DeliveryOptions().setSendTimeout(timeout.toMillis())).map(m -> (Object) m.body()));
    }
    Future.join(replies).otherwiseEmpty().toCompletionStage().toCompletableFuture()
        .get(timeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
    Set<Object> ids = new HashSet<>();
    replies.stream().filter(Future::succeeded).forEach(f -> ids.add(f.result()));
    return ids;
  }
}
