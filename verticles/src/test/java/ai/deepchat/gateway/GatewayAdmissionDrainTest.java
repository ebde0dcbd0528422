package ai.deepchat.gateway;

import ai.deepchat.platform.cluster.ClusterQuorum;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The drain's own polling, called as the launcher calls it: from a thread that is not Vert.x's (the
 * shutdown hook on Ctrl-C), on an idle node, so its first check completes it at once. Vert.x 5 stores a
 * periodic timer's handle only after handing it to the event loop; a timer cancelled from its own first
 * run, when that run beat the caller's store, threw a NullPointerException on the event loop. The
 * window is a few instructions wide: this test did not provoke it in about a million drains, so it
 * guards the one-shot timers that replaced the periodic one rather than reproducing the race.
 */
class GatewayAdmissionDrainTest {

  private final Vertx vertx = Vertx.vertx();
  private final Queue<Throwable> unhandled = new ConcurrentLinkedQueue<>();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void drainsCalledOffTheEventLoopCompleteAndThrowNothing() throws Exception {
    vertx.exceptionHandler(unhandled::add);
    GatewayAdmission admission = new GatewayAdmission(4, 1, ClusterQuorum.of(vertx));
    // many callers at once on few cores, for a while: some are preempted between scheduling and storing the handle
    int threads = 16;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    ExecutorService callers = Executors.newFixedThreadPool(threads);
    List<java.util.concurrent.Future<List<Future<Boolean>>>> calls = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      calls.add(callers.submit(() -> {
        List<Future<Boolean>> drains = new ArrayList<>();
        while (System.nanoTime() < until && unhandled.isEmpty()) {
          drains.add(admission.drain(vertx, Duration.ZERO, Duration.ofSeconds(10)));
        }
        return drains;
      }));
    }
    int total = 0;
    for (var call : calls) {
      for (Future<Boolean> drained : call.get(30, TimeUnit.SECONDS)) {
        assertThat(drained.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS))
            .as("an idle node drains at once").isTrue();
        total++;
      }
    }
    assertThat(total).isPositive();
    callers.shutdown();
    // a failing check would surface on the event loop within a tick of the drain completing
    Thread.sleep(200);
    assertThat(unhandled).as("exceptions on the event loop").isEmpty();
    assertThat(admission.draining()).isTrue();
  }
}
