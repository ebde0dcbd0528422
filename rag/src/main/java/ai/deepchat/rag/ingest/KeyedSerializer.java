package ai.deepchat.rag.ingest;

import ai.deepchat.platform.concurrent.CallerContext;
import io.vertx.core.Future;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks one after another per key: the commit of an ingestion (database, then
 * FAISS) must not interleave with another one of the same knowledge base, or the index could end up
 * holding vectors the database no longer has.
 */
final class KeyedSerializer {

  private final Map<Object, Future<?>> tails = new HashMap<>();

  synchronized <T> Future<T> run(Object key, Supplier<Future<T>> task) {
    Future<?> tail = tails.getOrDefault(key, Future.succeededFuture());
    // the previous task may belong to another event loop (uploads arrive on every gateway instance)
    Future<T> next = CallerContext.bind(tail).transform(ignored -> task.get());
    tails.put(key, next);
    next.onComplete(ignored -> {
      synchronized (this) {
        tails.remove(key, next);
      }
    });
    return next;
  }
}
