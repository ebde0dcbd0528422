package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;
import java.util.concurrent.Callable;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where an edge's turn goes: to the conversation verticle that claimed the edge's event loop, and to the
 * cluster-wide {@code chat.turn} from anywhere else, or when that verticle stopped consuming before it
 * gave the loop back (a drain racing the edge's look-up). The two consumers stand in for conversation
 * verticles and answer with where they are.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TurnLoopsTest {

  private Vertx vertx;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    Codecs.registerAll(vertx);
    vertx.eventBus().<TurnRequest>consumer(Addresses.CHAT_TURN, msg -> msg.reply(ack(msg.body(), "bus")));
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  private static TurnAck ack(TurnRequest req, String where) {
    return new TurnAck(req.turnId(), where, "u", "a", "m", false, false);
  }

  private static TurnRequest turn(String id) {
    return new TurnRequest(id, "t", "api", null, null, null, List.of(new ChatMessage("user", "hi")), null, null,
        "inbox", false);
  }

  /** Runs {@code action} on {@code ctx} and waits for what it gives. */
  private static <T> T on(Context ctx, Callable<Future<T>> action) throws Exception {
    Promise<T> result = Promise.promise();
    ctx.runOnContext(v -> {
      try {
        action.call().onComplete(result);
      } catch (Exception e) {
        result.fail(e);
      }
    });
    return await(result.future());
  }

  private String whereTurnGoesFrom(Context ctx, String id) throws Exception {
    return on(ctx, () -> TurnLoops.start(vertx, turn(id), 2000)).body().conversationId();
  }

  @Test
  void aTurnGoesToItsLoopsVerticleAndElsewhereToTheBus() throws Exception {
    Context loop = ((VertxInternal) vertx).createEventLoopContext();
    String[] claimed = new String[1];
    MessageConsumer<TurnRequest> local = on(loop, () -> {
      claimed[0] = TurnLoops.claim(vertx);
      MessageConsumer<TurnRequest> c = vertx.eventBus().<TurnRequest>localConsumer(claimed[0],
          msg -> msg.reply(ack(msg.body(), "loop")));
      return c.completion().map(c);
    });
    assertThat(claimed[0]).startsWith(Addresses.CHAT_TURN_ON_LOOP + "vert.x-eventloop-thread-");
    assertThat(on(loop, () -> Future.succeededFuture(TurnLoops.claim(vertx)))).as("a loop has one verticle").isNull();

    assertThat(whereTurnGoesFrom(loop, "1")).isEqualTo("loop");
    // another loop's edge, and a thread that is no event loop, have no verticle of their own
    Context other = ((VertxInternal) vertx).createEventLoopContext(); // the next of the two loops
    assertThat(on(other, () -> Future.succeededFuture(Thread.currentThread().getName())))
        .isNotEqualTo(claimed[0].substring(Addresses.CHAT_TURN_ON_LOOP.length()));
    assertThat(whereTurnGoesFrom(other, "2")).isEqualTo("bus");
    assertThat(await(TurnLoops.start(vertx, turn("3"), 2000)).body().conversationId()).isEqualTo("bus");

    // the verticle stopped consuming but has not yet given the loop back: the turn still gets an answer
    on(loop, local::unregister);
    assertThat(whereTurnGoesFrom(loop, "4")).isEqualTo("bus");
    TurnLoops.release(vertx, claimed[0]);
    assertThat(whereTurnGoesFrom(loop, "5")).isEqualTo("bus");
  }
}
