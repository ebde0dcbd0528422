package ai.deepchat.platform.db;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * #25: a statement is sent and answered on its caller's event loop. A pooled connection does its I/O on
 * the loop that opened it; with one pool for the node, a loop whose own connections are busy (or that
 * opened none, because the demand was elsewhere when the pool filled) borrows another loop's, and each
 * round trip then wakes two threads. Observed through PostgreSQL's backend process ids: with a pool per
 * loop, no connection serves two loops, and the node holds no more connections than configured.
 */
@ExtendWith(VertxExtension.class)
class LoopPoolsTest {

  private static final int SIZE = 8;

  @Test
  void noConnectionServesTwoEventLoopsAndTheConfiguredSizeHolds(Vertx vertx) throws Exception {
    TestDatabase testDb = TestDatabase.fresh(vertx);
    UUID tenant = await(testDb.tenant("loops"));
    Database db = testDb.pool(vertx, SIZE, true);
    List<Context> loops = new ArrayList<>();
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      loops.add(((VertxInternal) vertx).contextBuilder().withEventLoop((io.netty.channel.EventLoop) loop).build());
    }
    assertThat(loops).as("event loops of the test's Vert.x").hasSizeGreaterThan(1);
    Map<Integer, Set<String>> loopsByBackend = new ConcurrentHashMap<>();
    // first one loop alone fills what a node-wide pool would open, then every loop asks at once
    await(burst(loops.get(0), db, tenant, SIZE, loopsByBackend));
    List<Future<Void>> all = new ArrayList<>();
    for (Context loop : loops) {
      all.add(burst(loop, db, tenant, SIZE, loopsByBackend));
    }
    await(Future.all(all));

    assertThat(loopsByBackend).allSatisfy((pid, threads) ->
        assertThat(threads).as("event loops that used backend %d", pid).hasSize(1));
    assertThat(loopsByBackend).as("connections opened").hasSizeLessThanOrEqualTo(SIZE);
    assertThat(loopsByBackend.values().stream().flatMap(Set::stream).distinct().count())
        .as("loops that ran statements").isEqualTo(Math.min(loops.size(), SIZE));
  }

  /** {@code n} transactions at once from {@code loop}, each noting its backend and the thread it ran on. */
  private static Future<Void> burst(Context loop, Database db, UUID tenant, int n,
                                    Map<Integer, Set<String>> loopsByBackend) {
    Promise<Void> done = Promise.promise();
    loop.runOnContext(v -> {
      List<Future<Void>> txs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        txs.add(db.inTenant(tenant, c -> c.query("SELECT pg_backend_pid(), pg_sleep(0.05)").execute()
            .map(rows -> {
              int pid = rows.iterator().next().getInteger(0);
              loopsByBackend.computeIfAbsent(pid, k -> ConcurrentHashMap.newKeySet())
                  .add(Thread.currentThread().getName());
              return null;
            })));
      }
      Future.all(txs).<Void>mapEmpty().onComplete(done);
    });
    return done.future();
  }

  @Test
  void theConfiguredSizeIsSharedOutOverTheLoops() {
    assertThat(List.of(LoopPools.sizeOf(0, 4, 16), LoopPools.sizeOf(3, 4, 16))).containsExactly(4, 4);
    assertThat(List.of(LoopPools.sizeOf(0, 4, 10), LoopPools.sizeOf(1, 4, 10), LoopPools.sizeOf(2, 4, 10),
        LoopPools.sizeOf(3, 4, 10))).containsExactly(3, 3, 2, 2);
    assertThat(LoopPools.sizeOf(1, 2, 2)).isEqualTo(1);
  }

  @Test
  void aPoolOfOneConnectionStaysOne(Vertx vertx) throws Exception {
    Database db = TestDatabase.fresh(vertx).pool(vertx, 1, true);
    assertThat(db.poolCount()).isEqualTo(1);
    await(db.ping());
  }
}
