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
    List<Context> loops = eventLoops(vertx);
    assertThat(loops).as("event loops of the test's Vert.x").hasSizeGreaterThan(1);
    Map<Integer, Set<String>> loopsByBackend = new ConcurrentHashMap<>();
    // first one loop alone fills what a node-wide pool would open, then every loop asks at once for as many
    // connections as its own pool holds (more, and a loop borrows another's idle one: the next test)
    await(burst(loops.get(0), db, tenant, SIZE, loopsByBackend));
    List<Future<Void>> all = new ArrayList<>();
    for (Context loop : loops) {
      all.add(burst(loop, db, tenant, SIZE / loops.size(), loopsByBackend));
    }
    await(Future.all(all));

    assertThat(loopsByBackend).allSatisfy((pid, threads) ->
        assertThat(threads).as("event loops that used backend %d", pid).hasSize(1));
    assertThat(loopsByBackend).as("connections opened").hasSizeLessThanOrEqualTo(SIZE);
    assertThat(loopsByBackend.values().stream().flatMap(Set::stream).distinct().count())
        .as("loops that ran statements").isEqualTo(Math.min(loops.size(), SIZE));
  }

  /**
   * The fourteenth session's borrowing: a loop whose own pool is busy takes other loops' idle connections
   * instead of queueing for its own (before: one loop's burst waited for its two connections while six sat
   * idle, the FAQ runs' p99), and borrowing opens no connection. Every loop first opens its own pool's
   * connections; then one loop asks for the node's whole size at once, each transaction long enough that all
   * are out together: every connection of the node serves it, and no new one is opened.
   */
  @Test
  void aLoopWhosePoolIsBusyBorrowsIdleConnectionsOfOtherLoops(Vertx vertx) throws Exception {
    TestDatabase testDb = TestDatabase.fresh(vertx);
    UUID tenant = await(testDb.tenant("borrow"));
    Database db = testDb.pool(vertx, SIZE, true);
    List<Context> loops = eventLoops(vertx);
    assertThat(loops).as("event loops of the test's Vert.x").hasSizeGreaterThan(1);
    Map<Integer, Set<String>> opened = new ConcurrentHashMap<>();
    List<Future<Void>> all = new ArrayList<>();
    for (Context loop : loops) {
      all.add(burst(loop, db, tenant, SIZE / loops.size(), opened));
    }
    await(Future.all(all));
    assertThat(opened).as("connections the loops opened").hasSize(SIZE / loops.size() * loops.size());

    Map<Integer, Set<String>> used = new ConcurrentHashMap<>();
    PoolUses before = db.poolUses();
    await(burst(loops.get(0), db, tenant, opened.size(), used, "0.3"));
    PoolUses after = db.poolUses();
    // counted as served (deepchat_db_pool_uses_total): the loop's own share, the rest borrowed, none waited
    assertThat(after.own() - before.own()).as("own").isEqualTo(SIZE / loops.size());
    assertThat(after.borrowed() - before.borrowed()).as("borrowed").isEqualTo(opened.size() - SIZE / loops.size());
    assertThat(after.waited() - before.waited()).as("waited").isZero();

    assertThat(used.keySet()).as("connections that served the one loop's burst")
        .hasSize(opened.size()).isSubsetOf(opened.keySet());
    assertThat(used.values().stream().flatMap(Set::stream).distinct().toList()).as("threads the answers came on")
        .hasSize(1);
  }

  /**
   * Every pool busy: a use waits in the node's one queue and takes the first connection any loop frees, not
   * only its own loop's (before, it waited for its own pool's, here 1.5 s longer, while another's idled).
   */
  @Test
  void whenEveryPoolIsBusyAWaitingUseTakesTheFirstConnectionFreedOnAnyLoop(Vertx vertx) throws Exception {
    TestDatabase testDb = TestDatabase.fresh(vertx);
    UUID tenant = await(testDb.tenant("queue"));
    Database db = testDb.pool(vertx, SIZE, true);
    List<Context> loops = eventLoops(vertx);
    int share = SIZE / loops.size();
    List<Map<Integer, Set<String>>> opened = new ArrayList<>();
    List<Future<Void>> warm = new ArrayList<>();
    for (Context loop : loops) {
      Map<Integer, Set<String>> own = new ConcurrentHashMap<>();
      opened.add(own);
      warm.add(burst(loop, db, tenant, share, own));
    }
    await(Future.all(warm));

    // loop 1's uses end after 0.5 s, every other loop's after 2 s; then loop 0 asks for one more
    List<Future<Void>> busy = new ArrayList<>();
    for (int i = 0; i < loops.size(); i++) {
      busy.add(burst(loops.get(i), db, tenant, share, new ConcurrentHashMap<>(), i == 1 ? "0.5" : "2"));
    }
    Thread.sleep(200);
    Map<Integer, Set<String>> waited = new ConcurrentHashMap<>();
    long waitedBefore = db.poolUses().waited();
    await(burst(loops.get(0), db, tenant, 1, waited));
    assertThat(db.poolUses().waited() - waitedBefore).as("uses that waited").isEqualTo(1);
    assertThat(waited.keySet()).as("the connection the waiting use got").isSubsetOf(opened.get(1).keySet());
    await(Future.all(busy));
  }

  private static List<Context> eventLoops(Vertx vertx) {
    List<Context> loops = new ArrayList<>();
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      loops.add(((VertxInternal) vertx).contextBuilder().withEventLoop((io.netty.channel.EventLoop) loop).build());
    }
    return loops;
  }

  private static Future<Void> burst(Context loop, Database db, UUID tenant, int n,
                                    Map<Integer, Set<String>> loopsByBackend) {
    return burst(loop, db, tenant, n, loopsByBackend, "0.05");
  }

  /** {@code n} transactions at once from {@code loop}, each noting its backend and the thread it ran on. */
  private static Future<Void> burst(Context loop, Database db, UUID tenant, int n,
                                    Map<Integer, Set<String>> loopsByBackend, String sleepSeconds) {
    Promise<Void> done = Promise.promise();
    loop.runOnContext(v -> {
      List<Future<Void>> txs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        txs.add(db.inTenant(tenant, c -> c.query("SELECT pg_backend_pid(), pg_sleep(" + sleepSeconds + ")").execute()
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
