package ai.deepchat.failover;

import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.chat.dispatch.TokenizerTokenCounter;
import ai.deepchat.failover.SseStreams.Seen;
import ai.deepchat.launcher.NodeProcess;
import ai.deepchat.platform.config.ConfigLoader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #9's worker failure test and RELIABILITY.md scenario 7, with the real engine (CPU backend,
 * bundled tiny model) on three clustered JVMs: a gateway + pipeline node, a pipeline + worker node
 * and a worker node. The worker node is killed while 20 streaming conversations run. Every client
 * gets a complete answer (the ones whose answer had not started are started again on the other
 * worker) or, if its answer was already streaming from the dead worker, a clean error event: found
 * through cluster membership, well before the stream's idle timeout. Each stored answer is what its
 * client received. Skipped where the native engine was not built (-Dnative.skip=true).
 */
@Tag("failover-processes") // runs in two forks beside its peers: platform/launcher/pom.xml
class WorkerKillMidStreamTest {

  private static final int CONVERSATIONS = 20;
  private static final long IDLE_TIMEOUT_MS = 30_000;
  /** Sequences per worker at once: the rest of the 20 wait in the workers' queues. */
  private static final int BATCH = 4;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  @Timeout(value = 400, unit = TimeUnit.SECONDS)
  void workerKilledDuringTwentyConversationsLosesOnlyTheAnswersItWasStreaming(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Assumptions.assumeTrue(getClass().getResource("/META-INF/native/linux-x86_64/libdsengine_jni.so") != null,
        "native engine not built");
    try (ClusterFixture cluster = new ClusterFixture(dir, 3, Map.of("CHAT_IDLE_TIMEOUT_MS",
        String.valueOf(IDLE_TIMEOUT_MS), "CHAT_REQUEST_TIMEOUT_MS", "10000", "ENGINE_THREADS", "1",
        "ENGINE_MAX_SEQUENCES", String.valueOf(BATCH)))) {
      NodeProcess front = cluster.start(0, "gateway-pipeline", "gateway,pipeline");
      NodeProcess survivor = cluster.start(1, "pipeline-worker", "pipeline,worker");
      NodeProcess doomed = cluster.start(2, "worker", "worker");
      String key = cluster.tenantWithKey("acme");
      // the tokenizer the pipelines count with (the bundled model's), to check usage against what was delivered
      TokenCounter tokens = TokenizerTokenCounter.forConfig(ConfigLoader.load(Map.of("DATA_DIR",
          dir.resolve("tokenizer").toString()), new String[0]));

      SseStreams sse = new SseStreams();
      // until the pipelines route to the doomed worker too (its subscription reaches them through the
      // cluster a little after it is ready), every answer would go to the survivor
      long routed = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      for (int w = 0; generatedTokens(doomed) == 0; w++) {
        assertThat(System.nanoTime()).as("the pipelines route to the doomed worker").isLessThan(routed);
        SseStreams.read(sse.open(front.httpPort, key, "warm-" + w, SseStreams.body("Warm up " + w, 4)), 0, null);
      }
      AtomicLong killedAt = new AtomicLong();
      ExecutorService clients = Executors.newFixedThreadPool(CONVERSATIONS);
      List<CompletableFuture<Seen>> answers = new ArrayList<>();
      try {
        for (int i = 0; i < CONVERSATIONS; i++) {
          int n = i;
          answers.add(CompletableFuture.supplyAsync(() -> {
            try {
              HttpResponse<InputStream> r = sse.open(front.httpPort, key, "conv-" + n, "{\"messages\":[{\"role\":"
                  + "\"user\",\"content\":\"Tell me story number " + n + "\"}],\"stream\":true,\"max_tokens\":300,"
                  + "\"temperature\":1.0,\"seed\":" + n + "}");
              if (r.statusCode() != 200) {
                return new Seen(List.of(), "status:" + r.statusCode(), null,
                    new String(r.body().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), System.nanoTime());
              }
              return SseStreams.read(r, 0, null);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }, clients));
        }
        // the doomed worker has all its places busy and more waiting (its queue gauge), and its engine is
        // producing tokens (its token counter moves): it streams some answers and holds some not started.
        // Client-side signs are not enough: a busy box delivers finished answers for seconds after.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        double before = generatedTokens(doomed);
        while (true) {
          Thread.sleep(100);
          double now = generatedTokens(doomed);
          if (now > before && queueDepth(doomed) >= 1) {
            doomed.sigkill();
            killedAt.set(System.nanoTime());
            break;
          }
          before = now;
          assertThat(System.nanoTime()).as("the doomed worker generates with requests queued").isLessThan(deadline);
        }
        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(240, TimeUnit.SECONDS);
      } finally {
        clients.shutdownNow();
      }

      // every stream has ended: the survivor holds no sequence and no KV block for any of them (nor for an
      // orphaned retry, which would keep generating for nobody), and nothing waits for a slot
      until("the survivor's queue and KV blocks drain", Duration.ofSeconds(10),
          () -> queueDepth(survivor) == 0 && kvCacheUsage(survivor) == 0);
      assertThat(queueDepth(survivor)).as("the survivor's queue after the streams ended").isZero();
      assertThat(kvCacheUsage(survivor)).as("the survivor's KV blocks (and so its batch slots) after the streams ended")
          .isZero();
      double survivorTokens = generatedTokens(survivor);
      Thread.sleep(1000); // a window in which nothing may happen: an orphan would generate tokens in it
      assertThat(generatedTokens(survivor)).as("no generation left running for nobody").isEqualTo(survivorTokens);

      int complete = 0;
      int failed = 0;
      for (int i = 0; i < CONVERSATIONS; i++) {
        Seen seen = answers.get(i).get();
        String who = "conversation " + i + " (" + seen.ending() + " " + seen.errorMessage() + ", "
            + seen.deltas().size() + " deltas)";
        assertThat(seen.ending()).as(who).isIn("done", "error:backend_unavailable");
        if (seen.ending().equals("done")) {
          complete++;
        } else {
          failed++;
          // "already streaming" is the worker's view: tokens it sent just before the kill may reach the
          // client after it (a busy CI box buffers a few hundred ms), so the client's clock cannot tell.
          // An answer that had not started is retried, so every failed one carries the dead worker's
          // tokens; and that worker streams at most BATCH answers at once.
          assertThat(seen.deltas()).as(who + ": only answers already streaming may fail").isNotEmpty();
          long millis = TimeUnit.NANOSECONDS.toMillis(seen.endedAtNanos() - killedAt.get());
          assertThat(millis).as(who + ": found through membership, before the idle timeout")
              .isLessThan(IDLE_TIMEOUT_MS / 3);
        }
        assertStored(cluster, "conv-" + i, seen, tokens);
      }
      assertThat(failed).as("the killed worker was streaming some answers").isPositive();
      assertThat(failed).as("no more failures than answers the killed worker streams at once").isLessThanOrEqualTo(BATCH);
      String pipelineLogs = Files.readString(front.log) + Files.readString(survivor.log);
      assertThat(pipelineLogs).as("answers queued on the dead worker were started again elsewhere")
          .contains("lost its worker before the first token");
      assertThat(complete + failed).isEqualTo(CONVERSATIONS);
    }
  }

  /** The worker's deepchat_worker_queue_depth gauge, from its node's /metrics. */
  private static double queueDepth(NodeProcess worker) throws Exception {
    return metric(worker, "deepchat_worker_queue_depth{");
  }

  /** The worker's deepchat_worker_kv_cache_usage_ratio gauge: KV positions reserved by live sequences. */
  private static double kvCacheUsage(NodeProcess worker) throws Exception {
    return metric(worker, "deepchat_worker_kv_cache_usage_ratio{");
  }

  /** The worker's deepchat_worker_generated_tokens_total counter. */
  private static double generatedTokens(NodeProcess worker) throws Exception {
    return metric(worker, "deepchat_worker_generated_tokens_total{");
  }

  private static double metric(NodeProcess worker, String prefix) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.httpPort
        + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    return r.body().lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /**
   * One question and one answer per conversation; the answer holds exactly what the client saw, and its
   * usage the tokens the client got: the usage the client was told for a complete answer, the tokens of
   * the delivered text for an interrupted one (never the tokens the dead worker generated but never sent).
   */
  private static void assertStored(ClusterFixture cluster, String idempotencyKey, Seen seen, TokenCounter tokens)
      throws Exception {
    try (Connection c = cluster.owner(); PreparedStatement st = c.prepareStatement(
        "SELECT u.status, a.status, a.content, (SELECT count(*) FROM messages m"
            + " WHERE m.conversation_id = u.conversation_id), a.completion_tokens, coalesce(a.reasoning, '')"
            + " FROM messages u JOIN messages a ON a.reply_to = u.id"
            + " WHERE u.idempotency_key = ?")) {
      st.setString(1, "api:" + idempotencyKey);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        ResultSet rs = st.executeQuery();
        assertThat(rs.next()).as(idempotencyKey + " stored").isTrue();
        String status = rs.getString(2);
        if (!"streaming".equals(status) || System.nanoTime() > deadline) {
          assertThat(rs.getString(1)).isEqualTo("complete");
          assertThat(status).as(idempotencyKey).isEqualTo(seen.ending().equals("done") ? "complete" : "interrupted");
          assertThat(rs.getString(3)).as(idempotencyKey + ": stored answer = delivered text").isEqualTo(seen.text());
          assertThat(rs.getLong(4)).as(idempotencyKey + ": one question, one answer").isEqualTo(2);
          int delivered = tokens.count(seen.text()) + tokens.count(rs.getString(6));
          assertThat(rs.getInt(5)).as(idempotencyKey + ": usage = tokens delivered")
              .isEqualTo(seen.ending().equals("done") ? seen.completionTokens() : delivered);
          if (seen.ending().equals("done")) {
            assertThat(seen.completionTokens()).as(idempotencyKey + ": the client was told its usage").isPositive();
          }
          assertThat(rs.next()).isFalse();
          return;
        }
        Thread.sleep(250);
      }
    }
  }
}
