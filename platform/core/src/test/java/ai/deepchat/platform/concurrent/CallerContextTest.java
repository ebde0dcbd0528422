package ai.deepchat.platform.concurrent;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** A future cached by one verticle instance continues on the context of each instance that asks for it. */
class CallerContextTest {

  private final Vertx vertx = Vertx.vertx();
  // off a Vert.x thread, each call makes a new event-loop context: two verticle instances' contexts.
  // The loader is a ContextInternal (the SPI CallerContext itself uses) to make promises bound to it,
  // as a cache filled on one instance's event loop holds them.
  private final ContextInternal loader = (ContextInternal) vertx.getOrCreateContext();
  private final Context caller = vertx.getOrCreateContext();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aPendingSharedFutureCompletesOnTheCallersContext() throws Exception {
    PromiseInternal<String> loading = loader.promise();
    CompletableFuture<Context> plain = continuedOn(loading.future(), f -> f);
    CompletableFuture<Context> bound = continuedOn(loading.future(), CallerContext::bind);
    loader.runOnContext(v -> loading.complete("routing"));
    assertThat(plain.get(10, TimeUnit.SECONDS)).as("Vert.x's own rule: the creator's context").isSameAs(loader);
    assertThat(bound.get(10, TimeUnit.SECONDS)).isSameAs(caller);
  }

  @Test
  void aCompletedOrFailedSharedFutureContinuesOnTheCallersContext() throws Exception {
    PromiseInternal<String> loaded = loader.promise();
    PromiseInternal<String> failed = loader.promise();
    loaded.complete("routing");
    failed.fail("database down");
    assertThat(continuedOn(loaded.future(), f -> f).get(10, TimeUnit.SECONDS)).isSameAs(loader);
    assertThat(continuedOn(loaded.future(), CallerContext::bind).get(10, TimeUnit.SECONDS)).isSameAs(caller);
    assertThat(continuedOn(failed.future(), CallerContext::bind).get(10, TimeUnit.SECONDS)).isSameAs(caller);
  }

  /** On the caller's context: the context that runs a continuation of {@code how(shared)}. */
  private CompletableFuture<Context> continuedOn(Future<String> shared, Function<Future<String>, Future<String>> how) {
    CompletableFuture<Context> ran = new CompletableFuture<>();
    CompletableFuture<Void> chained = new CompletableFuture<>();
    caller.runOnContext(v -> {
      how.apply(shared).onComplete(ar -> ran.complete(Vertx.currentContext()));
      chained.complete(null);
    });
    chained.join();
    return ran;
  }
}
