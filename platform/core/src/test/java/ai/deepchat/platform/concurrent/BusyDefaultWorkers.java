package ai.deepchat.platform.concurrent;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds every thread of Vert.x's default worker pool until closed, as blocking work of some other kind
 * would: what still completes meanwhile runs on a pool of its own.
 */
public final class BusyDefaultWorkers implements AutoCloseable {

  private final CountDownLatch release = new CountDownLatch(1);

  private BusyDefaultWorkers() {
  }

  /** Returns once all {@link VertxOptions#DEFAULT_WORKER_POOL_SIZE} threads of a default Vert.x are held. */
  public static BusyDefaultWorkers hold(Vertx vertx) throws InterruptedException {
    BusyDefaultWorkers busy = new BusyDefaultWorkers();
    CountDownLatch held = new CountDownLatch(VertxOptions.DEFAULT_WORKER_POOL_SIZE);
    for (int i = 0; i < VertxOptions.DEFAULT_WORKER_POOL_SIZE; i++) {
      vertx.executeBlocking(() -> {
        held.countDown();
        return busy.release.await(120, TimeUnit.SECONDS);
      }, false);
    }
    if (!held.await(30, TimeUnit.SECONDS)) {
      busy.close();
      throw new IllegalStateException("the default worker pool has more threads than expected, or they are busy");
    }
    return busy;
  }

  @Override
  public void close() {
    release.countDown();
  }
}
