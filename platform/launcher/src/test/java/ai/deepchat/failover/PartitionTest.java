package ai.deepchat.failover;

import ai.deepchat.launcher.NodeProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RELIABILITY.md scenario 10: five nodes, each in a network namespace of its own, are cut 2|3 for 60 s
 * while clients chat through a gateway on each side, then the network heals.
 * <ul>
 *   <li>The minority (2 of 5, below the quorum of 3) refuses new chats with 503 {@code cluster_minority}
 *       and new widget sockets, and reports not ready; the refused requests store nothing.
 *   <li>The majority goes on answering every chat once the cut nodes are dropped.
 *   <li>After the heal the sides merge: from every node, not only a probe member, every request/reply
 *       address reaches a live consumer on the merged cluster, both gateways answer again, and once the clients have retried what was not
 *       acknowledged (same idempotency keys, as clients do), each chat is one question and one answer
 *       in PostgreSQL, holding what the client was given: nothing lost, nothing twice.
 * </ul>
 * Needs root and iproute2 for the namespaces (skipped otherwise), and the native engine.
 */
// Not tagged "failover-processes": it runs in the single fork, not beside the other failover classes. Beside
// them it failed once in the lead's second quiet run (no chat to the healed minority's gateway began in the
// 10 s after the merge while the other fork started nodes); its merge phase needs the machine.
class PartitionTest {

  private static final Set<Integer> MINORITY = Set.of(3, 4);
  private static final Duration CUT = Duration.ofSeconds(60);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  /** One request of a client and how it ended. */
  record Attempt(String key, int gateway, long startedAt, long endedAt, int status, String code, String content,
                 String retryAfter) {
  }

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void theMinorityRefusesNewChatsAndTheMergedClusterLosesNothing(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    Assumptions.assumeTrue(NetnsLab.available(), "network namespaces need root and iproute2");
    try (NetnsLab lab = NetnsLab.create(5);
         ClusterFixture cluster = new ClusterFixture(dir, 5, Map.of("ENGINE_THREADS", "1",
             "CHAT_REQUEST_TIMEOUT_MS", "10000"), lab)) {
      List<NodeProcess> nodes = cluster.startAll(List.of("gw-a", "pipe-a", "work-a", "gw-b", "pipe-b"),
          List.of("gateway,pipeline", "pipeline,worker", "worker", "gateway,pipeline,worker", "pipeline,worker"));
      NodeProcess majorityGateway = nodes.get(0);
      NodeProcess minorityGateway = nodes.get(3);
      Vertx probe = cluster.joinProbe();
      Map<String, Object> addresses = BusProbe.addresses(List.of(BusProbe.EVERY_NODE, BusProbe.PIPELINE,
          BusProbe.WORKER));
      until("every node answers pings", Duration.ofSeconds(90),
          () -> BusProbe.pingers(probe, 50, PROBE_TIMEOUT).size() == 5);
      String key = cluster.tenantWithKey("acme");
      assertThat(chat(majorityGateway, key, "warm-a", 0).status()).isEqualTo(200);
      assertThat(chat(minorityGateway, key, "warm-b", 3).status()).isEqualTo(200);

      List<Attempt> attempts = new CopyOnWriteArrayList<>();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService clients = Executors.newFixedThreadPool(4);
      List<Future<?>> loops = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int client = c;
        NodeProcess gateway = c % 2 == 0 ? majorityGateway : minorityGateway;
        int gatewayIndex = c % 2 == 0 ? 0 : 3;
        loops.add(clients.submit(() -> {
          for (int n = 0; !stop.get(); n++) {
            Attempt a = chat(gateway, key, "c" + client + "-" + n, gatewayIndex);
            attempts.add(a);
            // as a client does: wait as long as a 503 asks before the next chat
            Thread.sleep(a.retryAfter() == null ? 100 : Long.parseLong(a.retryAfter()) * 1000);
          }
          return null;
        }));
      }
      Thread.sleep(3000); // load before the cut: a phase of the scenario, not a wait for a condition

      lab.partition(MINORITY);
      long cutAt = System.nanoTime();
      Waits.phase("cut 2|3");
      until("the minority gateway reports not ready", Duration.ofSeconds(40), () -> readiness(minorityGateway) == 503);
      long minorityRefusesAt = System.nanoTime();
      Waits.phase("minority not ready");
      until("the majority drops the cut nodes", Duration.ofSeconds(40), () -> BusProbe.members(probe) == 4);
      BusProbe.awaitClean(probe, addresses, 40, PROBE_TIMEOUT);
      long majorityCleanAt = System.nanoTime();
      Waits.phase("majority clean");
      JsonObject notReady = new JsonObject(get(minorityGateway, "/health/ready").body());
      assertThat(notReady.encode()).as("readiness names the lost majority").contains("cluster-majority");
      assertThat(readiness(majorityGateway)).isEqualTo(200);
      assertThat(widgetUpgrade(minorityGateway)).as("new widget sockets are refused on the minority").isEqualTo(503);
      sleepUntil(cutAt + CUT.toNanos());
      List<String> refusedKeys = attempts.stream().filter(a -> "cluster_minority".equals(a.code()))
          .map(Attempt::key).toList();
      assertThat(countRows(cluster, refusedKeys)).as("refused chats stored nothing").isZero();

      lab.heal();
      long healAt = System.nanoTime();
      Waits.phase("healed");
      // Hazelcast checks for a split every 10 s, but the merge itself can stall behind the partition
      // table (see below): one run in several needed over 120 s on a 2-core machine
      until("the sides merge", Duration.ofSeconds(180),
          () -> BusProbe.members(probe) == 6 && readiness(minorityGateway) == 200);
      BusProbe.awaitClean(probe, addresses, 60, PROBE_TIMEOUT);
      // vertx-hazelcast republishes a merged node's subscriptions under a lock that can wait for the
      // partition table to settle (vert-x3/vertx-hazelcast#215): chats through that node may stall for
      // up to a minute after the merge. Measured from when it answers again.
      until("the minority gateway answers chats again", Duration.ofSeconds(150),
          () -> chat(minorityGateway, key, "merge-" + System.nanoTime(), 3).status() == 200);
      long mergedAt = System.nanoTime();
      Waits.phase("merged, " + TimeUnit.NANOSECONDS.toSeconds(mergedAt - healAt) + " s after the heal");
      Thread.sleep(10_000); // load after the merge: its chats must all succeed
      // a chat begun in the first seconds after the merge can still be waiting out a message sent on a route
      // the merge had not yet repaired (a 504 after the turn's 20 s), and its client with it: the load goes on
      // until each gateway has also finished a chat begun after those seconds (the checks below want 200s)
      long settledAt = mergedAt + TimeUnit.SECONDS.toNanos(2);
      until("a chat begun after the merge finished at each gateway", Duration.ofSeconds(60),
          () -> Stream.of(0, 3).allMatch(g -> attempts.stream()
              .anyMatch(a -> a.gateway() == g && a.startedAt() > settledAt)));
      stop.set(true);
      for (Future<?> loop : loops) {
        loop.get(90, TimeUnit.SECONDS);
      }
      clients.shutdown();

      List<Attempt> minorityCut = attempts.stream().filter(a -> a.gateway() == 3
          && a.startedAt() > minorityRefusesAt && a.endedAt() < healAt).toList();
      assertThat(minorityCut).as("chats sent to the minority while cut").isNotEmpty()
          .allSatisfy(a -> assertThat(a.code()).as(a.toString()).isEqualTo("cluster_minority"))
          .allSatisfy(a -> assertThat(a.retryAfter()).as("503 says when to retry").isNotNull());
      List<Attempt> majorityCut = attempts.stream().filter(a -> a.gateway() == 0
          && a.startedAt() > majorityCleanAt + TimeUnit.SECONDS.toNanos(2) && a.endedAt() < healAt).toList();
      assertThat(majorityCut).as("chats sent to the majority while cut").isNotEmpty()
          .allSatisfy(a -> assertThat(a.status()).as(a.toString()).isEqualTo(200));
      List<Attempt> merged = attempts.stream().filter(a -> a.startedAt() > mergedAt + TimeUnit.SECONDS.toNanos(2))
          .toList();
      assertThat(merged.stream().map(Attempt::gateway).distinct()).as("both gateways after the merge")
          .containsExactlyInAnyOrder(0, 3);
      assertThat(merged).allSatisfy(a -> assertThat(a.status()).as(a.toString()).isEqualTo(200));
      assertThat(BusProbe.failures(probe, addresses, 200, PROBE_TIMEOUT))
          .as("every address reaches a live consumer after the merge").isEmpty();
      // a node's subscription self-check can sit behind Hazelcast's MultiMap merge for a minute: bounded
      until("every node is reached", Duration.ofSeconds(90),
          () -> BusProbe.pingers(probe, 50, PROBE_TIMEOUT).size() == 5);
      Set<Object> nodeIds = BusProbe.pingers(probe, 50, PROBE_TIMEOUT);
      assertThat(nodeIds).as("every node is reached").hasSize(5);
      // not only from the probe member: each node sends to every address itself (the minority's nodes see
      // the majority's consumers and the other way round), bounded so a stale view fails the test
      BusProbe.awaitCleanFromEachNode(probe, nodeIds, addresses, 30, PROBE_TIMEOUT);
      Waits.phase("every node reaches every consumer");

      // clients retry what was not acknowledged, with the same key, until it is
      Map<String, Attempt> acknowledged = new LinkedHashMap<>();
      Map<String, Integer> gatewayOf = new HashMap<>();
      for (Attempt a : attempts) {
        gatewayOf.putIfAbsent(a.key(), a.gateway());
        if (a.status() == 200) {
          acknowledged.put(a.key(), a);
        }
      }
      int retried = 0;
      for (String k : gatewayOf.keySet()) {
        if (!acknowledged.containsKey(k)) {
          acknowledged.put(k, retryUntilAcknowledged(nodes.get(gatewayOf.get(k)), key, k, gatewayOf.get(k)));
          retried++;
        }
      }
      System.out.println("outcomes: " + attempts.stream().collect(java.util.stream.Collectors.groupingBy(
          a -> a.gateway() + ":" + a.status() + (a.code() == null ? "" : " " + a.code()),
          java.util.TreeMap::new, java.util.stream.Collectors.counting())));
      System.out.printf("partition: %d chats, %d refused by the minority, %d retried after the merge%n",
          gatewayOf.size(), minorityCut.size(), retried);
      assertStoredOnce(cluster, acknowledged);
    }
  }

  private static Attempt chat(NodeProcess gateway, String apiKey, String idempotencyKey, int gatewayIndex) {
    long started = System.nanoTime();
    String body = new JsonObject().put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject()
            .put("role", "user").put("content", "Partition question " + idempotencyKey)))
        .put("max_tokens", 8).put("temperature", 0).encode();
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + gateway.host + ":"
              + gateway.httpPort + "/v1/chat/completions")).timeout(Duration.ofSeconds(60))
          .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
          .header("Idempotency-Key", idempotencyKey).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonObject json = r.body().startsWith("{") ? new JsonObject(r.body()) : new JsonObject();
      String code = json.containsKey("error") ? json.getJsonObject("error").getString("code") : null;
      String content = r.statusCode() == 200
          ? json.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content") : null;
      return new Attempt(idempotencyKey, gatewayIndex, started, System.nanoTime(), r.statusCode(), code, content,
          r.headers().firstValue("Retry-After").orElse(null));
    } catch (IOException | InterruptedException e) {
      return new Attempt(idempotencyKey, gatewayIndex, started, System.nanoTime(), -1, e.toString(), null, null);
    }
  }

  private static Attempt retryUntilAcknowledged(NodeProcess gateway, String apiKey, String idempotencyKey,
                                                int gatewayIndex) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Attempt a = chat(gateway, apiKey, idempotencyKey, gatewayIndex);
    while (a.status() != 200) {
      assertThat(System.nanoTime()).as("acknowledged on retry: " + a).isLessThan(deadline);
      Thread.sleep(500); // a client's retry pace; the message names the last attempt, which Await.until cannot
      a = chat(gateway, apiKey, idempotencyKey, gatewayIndex);
    }
    return a;
  }

  /** One question and one complete answer per chat, holding what the client got; no other rows. */
  private static void assertStoredOnce(ClusterFixture cluster, Map<String, Attempt> chats) throws Exception {
    try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
        "SELECT u.idempotency_key, a.status, a.content, (SELECT count(*) FROM messages m"
            + " WHERE m.conversation_id = u.conversation_id) FROM messages u JOIN messages a ON a.reply_to = u.id"
            + " WHERE u.idempotency_key LIKE 'api:c%'")) {
      ResultSet rs = st.executeQuery();
      Map<String, Integer> seen = new HashMap<>();
      while (rs.next()) {
        String k = rs.getString(1).substring("api:".length());
        seen.merge(k, 1, Integer::sum);
        Attempt acknowledged = chats.get(k);
        assertThat(acknowledged).as(k + " stored but never asked").isNotNull();
        assertThat(rs.getString(2)).as(k).isEqualTo("complete");
        assertThat(rs.getString(3)).as(k + ": stored answer = the answer given").isEqualTo(acknowledged.content());
        assertThat(rs.getLong(4)).as(k + ": one question, one answer").isEqualTo(2);
      }
      assertThat(seen.keySet()).as("every acknowledged chat is stored").isEqualTo(chats.keySet());
      assertThat(seen.values()).as("none twice").allMatch(n -> n == 1);
    }
  }

  private static int countRows(ClusterFixture cluster, List<String> keys) throws Exception {
    if (keys.isEmpty()) {
      return 0;
    }
    try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM messages WHERE idempotency_key = ANY (?)")) {
      st.setArray(1, c.createArrayOf("text", keys.stream().map(k -> "api:" + k).toArray()));
      ResultSet rs = st.executeQuery();
      rs.next();
      return rs.getInt(1);
    }
  }

  /** The status of a widget WebSocket upgrade (refused before authentication when the node takes no chats). */
  private static int widgetUpgrade(NodeProcess node) throws Exception {
    try {
      HTTP.newWebSocketBuilder().buildAsync(URI.create("ws://" + node.host + ":" + node.httpPort + "/widget/ws"),
          new java.net.http.WebSocket.Listener() { }).get(10, TimeUnit.SECONDS).abort();
      return 101;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof java.net.http.WebSocketHandshakeException h) {
        return h.getResponse().statusCode();
      }
      throw e;
    }
  }

  private static int readiness(NodeProcess node) {
    try {
      return get(node, "/health/ready").statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static HttpResponse<String> get(NodeProcess node, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + node.host + ":" + node.httpPort + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }
}
