package ai.deepchat.platform.concurrent;

import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;

/**
 * Hands a future that a node-wide cache shares between verticle instances to the calling instance.
 * Vert.x runs a future's callbacks on the context that created it, so a cached future loaded by one
 * instance would run another instance's continuation on the first one's event loop, where it would
 * touch that instance's state from the wrong thread. Uses Vert.x's context SPI (io.vertx.core.internal):
 * the public API has no context-bound promise.
 */
public final class CallerContext {

  private CallerContext() {
  }

  /** {@code shared}, completing on the caller's context (as is, off any Vert.x context). */
  public static <T> Future<T> bind(Future<T> shared) {
    ContextInternal caller = ContextInternal.current();
    if (caller == null) {
      return shared;
    }
    if (shared.isComplete()) { // the usual case of a cache: no hop at all
      return shared.succeeded() ? caller.succeededFuture(shared.result()) : caller.failedFuture(shared.cause());
    }
    PromiseInternal<T> promise = caller.promise();
    shared.onComplete(promise);
    return promise.future();
  }
}
