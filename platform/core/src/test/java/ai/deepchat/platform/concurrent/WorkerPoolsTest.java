package ai.deepchat.platform.concurrent;

import ai.deepchat.platform.concurrent.WorkerPools.Kind;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Each kind of blocking work has its own named pool, of the configured size, apart from Vert.x's default pool. */
@ExtendWith(VertxExtension.class)
class WorkerPoolsTest {

  @Test
  void eachKindRunsOnItsNamedPoolOfTheInstalledSize(Vertx vertx) throws Exception {
    WorkerPools pools = WorkerPools.install(vertx, new PlatformConfig.Workers(1, 3, 2, 4, 5));
    assertThat(WorkerPools.of(vertx)).isSameAs(pools);
    for (Kind kind : Kind.values()) {
      WorkerExecutor pool = pools.open(kind);
      assertThat(peak(pool, 6)).as(kind + " runs its tasks side by side up to its size").isEqualTo(pools.size(kind));
      String thread = await(pool.executeBlocking(() -> Thread.currentThread().getName(), false));
      assertThat(thread).startsWith(kind.poolName());
    }
    assertThat(List.of(pools.size(Kind.PASSWORD_HASHING), pools.size(Kind.EMBEDDINGS), pools.size(Kind.TOKENIZER),
        pools.size(Kind.ENGINE_ADMISSIONS), pools.size(Kind.OUTBOUND_LOOKUPS))).containsExactly(1, 3, 2, 4, 5);
  }

  @Test
  void aPoolServesItsKindWhileTheDefaultPoolIsFull(Vertx vertx) throws Exception {
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      String thread = await(WorkerPools.of(vertx).open(Kind.EMBEDDINGS)
          .executeBlocking(() -> Thread.currentThread().getName(), false));
      assertThat(thread).startsWith("embeddings");
    }
  }

  @Test
  void withoutInstallTheDefaultSizesApply(Vertx vertx) {
    WorkerPools pools = WorkerPools.of(vertx);
    PlatformConfig.Workers defaults = PlatformConfig.Workers.defaults();
    assertThat(pools.size(Kind.PASSWORD_HASHING)).isEqualTo(defaults.passwordHashing()).isEqualTo(2);
    assertThat(pools.size(Kind.EMBEDDINGS)).isEqualTo(defaults.embeddings())
        .isEqualTo(Math.max(2, Runtime.getRuntime().availableProcessors()));
    assertThat(pools.size(Kind.TOKENIZER)).isEqualTo(defaults.tokenizer())
        .isEqualTo(Math.max(2, Runtime.getRuntime().availableProcessors()));
  }

  /** The most tasks of {@code tasks} that ran at once on {@code pool}, each holding its thread a while. */
  private static int peak(WorkerExecutor pool, int tasks) throws Exception {
    AtomicInteger running = new AtomicInteger();
    Set<Integer> seen = ConcurrentHashMap.newKeySet();
    List<Future<Void>> all = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      all.add(pool.executeBlocking(() -> {
        seen.add(running.incrementAndGet());
        Thread.sleep(150); // holds the thread, so the tasks overlap as far as the pool allows
        running.decrementAndGet();
        return null;
      }, false));
    }
    await(Future.all(all));
    return seen.stream().max(Integer::compare).orElseThrow();
  }
}
