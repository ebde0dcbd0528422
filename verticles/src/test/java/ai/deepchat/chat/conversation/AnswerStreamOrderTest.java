package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.bus.StreamKind;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnEvents;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The events of one turn leave numbered 1, 2, 3 ... as they travel, model deltas joined into one event
 * counting once, so an edge on another node can tell a lost event from the end of the answer.
 */
class AnswerStreamOrderTest {

  private Vertx vertx;
  private final List<TurnEvent> events = new CopyOnWriteArrayList<>();
  // an inbox address of another node: known here only as a bus consumer, so every flush is a bus message
  private final String edge = StreamKind.INBOX_PREFIX + ChatMessages.TURN_STREAM.name() + ".edge-node";

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    await(vertx.eventBus().<TurnEvents>consumer(edge, m -> events.addAll(m.body().events())).completion());
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void eventsAreNumberedAsTheyTravelJoinedDeltasOnce() throws Exception {
    AnswerStream answer = new AnswerStream(vertx, "t1", edge, 1000);
    await(Future.<Void>future(p -> vertx.runOnContext(v -> {
      answer.cite(List.of(new Citation(1, "Doc", null, "d1")));
      answer.modelDelta("Hel", null, null); // one task's deltas: joined into one event
      answer.modelDelta("lo", null, null);
      p.complete();
    })));
    until("the first flush arrived", Duration.ofSeconds(5), () -> events.size() == 2);
    await(Future.<Void>future(p -> vertx.runOnContext(v -> {
      answer.modelDelta(" world", null, null);
      answer.send(TurnEvent.done("t1", "chat", new Usage(1, 3), "stop"));
      p.complete();
    })));
    until("the second flush arrived", Duration.ofSeconds(5), () -> events.size() == 4);
    assertThat(events).extracting(TurnEvent::kind).containsExactly(TurnEvent.Kind.CITATIONS, TurnEvent.Kind.DELTA,
        TurnEvent.Kind.DELTA, TurnEvent.Kind.DONE);
    assertThat(events).extracting(TurnEvent::content).containsExactly(null, "Hello", " world", null);
    assertThat(events).extracting(TurnEvent::seq).containsExactly(1, 2, 3, 4);
  }
}
