package ai.deepchat.chat.api;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.chat.ChatMessages.CancelTurn;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnEvents;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The edge's side of a turn when the bus loses one of its events between the pipeline's node and the
 * edge's (at most once between nodes): the client is told with a retryable error instead of being given
 * the answer with a hole, and the turn is not cancelled, so the pipeline stores the whole answer for the
 * retry. The test plays the pipeline on {@link Addresses#CHAT_TURN}, sending each event as its own bus
 * message to the edge's inbox as a remote pipeline does.
 */
class TurnClientOrderTest {

  private Vertx vertx;
  private final List<String> cancelled = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    await(vertx.eventBus().<CancelTurn>consumer(Addresses.CHAT_TURN_CANCEL, m -> cancelled.add(m.body().turnId()))
        .completion());
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  /** A pipeline that acks each turn and sends "one two three" and DONE, numbered 1 to 4, less {@code lost}. */
  private void pipelineLosing(Set<Integer> lost) throws Exception {
    await(vertx.eventBus().<TurnRequest>consumer(Addresses.CHAT_TURN, m -> {
      TurnRequest req = m.body();
      m.reply(new TurnAck(req.turnId(), "c", "u", "a", "m", false, false));
      List<TurnEvent> events = List.of(TurnEvent.delta(req.turnId(), "one ", null),
          TurnEvent.delta(req.turnId(), "two ", null), TurnEvent.delta(req.turnId(), "three", null),
          TurnEvent.done(req.turnId(), "chat", new Usage(2, 3), "stop"));
      for (int i = 0; i < events.size(); i++) {
        if (!lost.contains(i + 1)) {
          vertx.eventBus().send(req.eventsAddress(), new TurnEvents(List.of(events.get(i).withSeq(i + 1))));
        }
      }
    }).completion());
  }

  private TurnClient.WholeAnswer ask() throws Exception {
    Promise<TurnClient.WholeAnswer> answer = Promise.promise();
    vertx.runOnContext(v -> {
      TurnRequest request = new TurnRequest(UUID.randomUUID().toString(), "tenant", "api", null, null, null,
          List.of(), null, null, null, false, null);
      TurnClient.Stream stream = new TurnClient(vertx, 5000, 30_000).start(request, 0);
      stream.ack().compose(ack -> stream.whole()).onComplete(answer);
    });
    return await(answer.future());
  }

  /** Whether a cancel was published before this call: a marker published now arrives after any earlier one. */
  private boolean cancelledBefore() throws Exception {
    await(Future.<Void>future(p -> vertx.runOnContext(v -> {
      vertx.eventBus().publish(Addresses.CHAT_TURN_CANCEL, new CancelTurn("marker"));
      p.complete();
    })));
    ai.deepchat.platform.testing.Await.until("the marker arrived", java.time.Duration.ofSeconds(5),
        () -> cancelled.contains("marker"));
    return cancelled.indexOf("marker") > 0;
  }

  @Test
  void everyEventInOrderGivesTheWholeAnswer() throws Exception {
    pipelineLosing(Set.of());
    TurnClient.WholeAnswer whole = ask();
    assertThat(whole.last().kind()).isEqualTo(TurnEvent.Kind.DONE);
    assertThat(whole.content()).isEqualTo("one two three");
  }

  @Test
  void aLostDeltaEndsTheAnswerWithARetryableErrorAndLeavesTheTurnRunning() throws Exception {
    pipelineLosing(Set.of(2));
    TurnClient.WholeAnswer whole = ask();
    assertThat(whole.last().kind()).isEqualTo(TurnEvent.Kind.ERROR);
    assertThat(whole.last().errorCode()).isEqualTo(BusFailure.BACKEND_UNAVAILABLE.apiCode());
    assertThat(whole.last().error()).contains("Idempotency-Key");
    assertThat(whole.content()).as("what arrived before the hole, never what came after it").isEqualTo("one ");
    assertThat(cancelledBefore()).as("the turn goes on, to be stored whole for the retry").isFalse();
  }

  @Test
  void aLostLastDeltaIsSeenAtTheDone() throws Exception {
    pipelineLosing(Set.of(3));
    TurnClient.WholeAnswer whole = ask();
    assertThat(whole.last().kind()).isEqualTo(TurnEvent.Kind.ERROR);
    assertThat(whole.content()).isEqualTo("one two ");
  }
}
