package ai.deepchat.platform.concurrent;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A future cached by one verticle instance continues on the context of each instance that asks for it. */
@ExtendWith(VertxExtension.class)
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
  void aPendingSharedFutureCompletesOnTheCallersContext(VertxTestContext test) {
    PromiseInternal<String> loading = loader.promise();
    Checkpoint continued = test.checkpoint(2);
    caller.runOnContext(v -> {
      loading.future().onComplete(ar -> test.verify(() -> {
        assertThat(Vertx.currentContext()).as("Vert.x's own rule: the creator's context").isSameAs(loader);
        continued.flag();
      }));
      CallerContext.bind(loading.future()).onComplete(ar -> test.verify(() -> {
        assertThat(Vertx.currentContext()).isSameAs(caller);
        continued.flag();
      }));
      loader.runOnContext(x -> loading.complete("routing"));
    });
  }

  @Test
  void aCompletedOrFailedSharedFutureContinuesOnTheCallersContext(VertxTestContext test) {
    PromiseInternal<String> loaded = loader.promise();
    PromiseInternal<String> failed = loader.promise();
    loaded.complete("routing");
    failed.fail("database down");
    Checkpoint continued = test.checkpoint(3);
    caller.runOnContext(v -> {
      loaded.future().onComplete(ar -> test.verify(() -> {
        assertThat(Vertx.currentContext()).isSameAs(loader);
        continued.flag();
      }));
      for (Future<String> shared : List.of(loaded.future(), failed.future())) {
        CallerContext.bind(shared).onComplete(ar -> test.verify(() -> {
          assertThat(Vertx.currentContext()).isSameAs(caller);
          continued.flag();
        }));
      }
    });
  }
}
