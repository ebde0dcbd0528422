package ai.deepchat.platform.bus;

import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnEvents;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvents;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Streamed events travel batched: one hand-over per inbox per flush, each stream's events in order,
 * events of streams no longer registered dropped, and what a handler passes on while handling a batch
 * leaves as one batch too. An inbox in the same JVM gets its batches without the bus (#25), one on
 * another node as one bus message each. Senders without batching (single events, per-stream addresses)
 * still work.
 */
class StreamBatchingTest {

  private Vertx vertx;
  private final Map<String, AtomicInteger> messagesTo = new ConcurrentHashMap<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    vertx.eventBus().addOutboundInterceptor(dc -> {
      messagesTo.computeIfAbsent(dc.message().address(), a -> new AtomicInteger()).incrementAndGet();
      dc.next();
    });
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void oneBatchPerInboxPerFlushWithEachStreamInOrderWithoutTheBus() throws Exception {
    Context edgeA = vertx.getOrCreateContext();
    Context edgeB = vertx.getOrCreateContext();
    Map<String, List<String>> received = new ConcurrentHashMap<>();
    StreamInbox<TurnEvent> a = on(edgeA, () -> turnInbox(received, "a1", "a2"));
    StreamInbox<TurnEvent> b = on(edgeB, () -> turnInbox(received, "b1"));
    assertThat(a.address()).isNotEqualTo(b.address());
    await(Future.all(a.ready(), b.ready()));

    StreamOutbox outbox = StreamOutbox.manual(vertx.eventBus());
    for (int i = 0; i < 3; i++) {
      for (String turn : List.of("a1", "b1", "a2", "gone")) {
        String to = turn.startsWith("b") ? b.address() : a.address();
        outbox.send(ChatMessages.TURN_STREAM, to, TurnEvent.delta(turn, turn + "-" + i, null));
      }
    }
    assertThat(messagesTo).isEmpty(); // nothing leaves before the flush
    outbox.flush();

    until("all nine events arrived", Duration.ofSeconds(10),
        () -> received.values().stream().mapToInt(List::size).sum() == 9);
    assertThat(received.get("a1")).containsExactly("a1-0", "a1-1", "a1-2");
    assertThat(received.get("a2")).containsExactly("a2-0", "a2-1", "a2-2");
    assertThat(received.get("b1")).containsExactly("b1-0", "b1-1", "b1-2");
    assertThat(received).doesNotContainKey("gone");
    assertThat(on(edgeA, a::deliveries)).isEqualTo(1);
    assertThat(on(edgeB, b::deliveries)).isEqualTo(1);
    assertThat(messagesTo).as("bus messages to inboxes of this JVM").isEmpty();
  }

  @Test
  void whatAHandlerPassesOnDuringABatchLeavesAsOneBatch() throws Exception {
    Context edge = vertx.getOrCreateContext();
    Context pipeline = vertx.getOrCreateContext();
    Map<String, List<String>> received = new ConcurrentHashMap<>();
    List<String> turns = List.of("t1", "t2", "t3", "t4", "t5");
    StreamInbox<TurnEvent> edgeInbox = on(edge, () -> turnInbox(received, turns.toArray(String[]::new)));
    StreamInbox<GenerationEvent> pipelineInbox = on(pipeline, () -> {
      StreamInbox<GenerationEvent> inbox = StreamInbox.current(vertx, EngineMessages.GENERATION_STREAM);
      for (String turn : turns) {
        // as the pipeline does: each generation event becomes a turn event for the edge
        inbox.register("gen-" + turn, e -> StreamOutbox.send(vertx, ChatMessages.TURN_STREAM, edgeInbox.address(),
            TurnEvent.delta(turn, e.content(), null)));
      }
      return inbox;
    });
    await(Future.all(edgeInbox.ready(), pipelineInbox.ready()));

    StreamOutbox engine = StreamOutbox.manual(vertx.eventBus());
    for (int step = 0; step < 2; step++) {
      for (String turn : turns) {
        engine.send(EngineMessages.GENERATION_STREAM, pipelineInbox.address(), new GenerationEvent("gen-" + turn,
            GenerationEvent.Kind.DELTA, "s" + step, null, null, null, null, new EngineStamp(1, 2)));
      }
      engine.flush(); // one engine step
      int expected = (step + 1) * turns.size();
      until("every turn's event of this step arrived", Duration.ofSeconds(10),
          () -> received.values().stream().mapToInt(List::size).sum() == expected);
    }
    for (String turn : turns) {
      assertThat(received.get(turn)).containsExactly("s0", "s1");
    }
    assertThat(on(pipeline, pipelineInbox::deliveries)).isEqualTo(2);
    assertThat(on(edge, edgeInbox::deliveries)).isEqualTo(2);
    assertThat(messagesTo).as("bus messages to inboxes of this JVM").isEmpty();
  }

  @Test
  void aTurnsDeltasSentJoinedInOneTaskArriveAsOneDeltaPerRun() throws Exception {
    Context edge = vertx.getOrCreateContext();
    Map<String, List<TurnEvent>> received = new ConcurrentHashMap<>();
    StreamInbox<TurnEvent> inbox = on(edge, () -> {
      StreamInbox<TurnEvent> in = StreamInbox.current(vertx, ChatMessages.TURN_STREAM);
      for (String turn : List.of("t1", "t2")) {
        in.register(turn, e -> received.computeIfAbsent(turn, k -> Collections.synchronizedList(new ArrayList<>())).add(e));
      }
      return in;
    });
    await(inbox.ready());

    // one task of the pipeline: tokens of two turns interleaved, a citations event inside t1's run
    on(vertx.getOrCreateContext(), () -> {
      for (TurnEvent e : List.of(TurnEvent.delta("t1", "Hel", null, new EngineStamp(1, 2)),
          TurnEvent.delta("t2", "a", null), TurnEvent.delta("t1", "lo", "why", new EngineStamp(3, 4)),
          TurnEvent.citations("t1", List.of()), TurnEvent.delta("t1", " there", null),
          TurnEvent.delta("t2", "b", null), TurnEvent.done("t2", "chat", new Usage(1, 2), "stop"),
          TurnEvent.delta("t2", "late", null))) {
        StreamOutbox.sendJoined(vertx, ChatMessages.TURN_STREAM, inbox.address(), e, TurnEvent::joined);
      }
      // sent plainly (a plugin's or the policy's text): apart from the joined deltas before and after it
      StreamOutbox.send(vertx, ChatMessages.TURN_STREAM, inbox.address(), TurnEvent.delta("t2", "plain", null));
      StreamOutbox.sendJoined(vertx, ChatMessages.TURN_STREAM, inbox.address(), TurnEvent.delta("t2", "after", null),
          TurnEvent::joined);
      return null;
    });

    until("both turns' events arrived", Duration.ofSeconds(10),
        () -> received.getOrDefault("t1", List.of()).size() == 3 && received.getOrDefault("t2", List.of()).size() == 5);
    List<TurnEvent> t1 = received.get("t1");
    assertThat(t1.get(0).content()).isEqualTo("Hello");
    assertThat(t1.get(0).reasoning()).isEqualTo("why");
    assertThat(t1.get(0).engine()).isEqualTo(new EngineStamp(1, 2)); // the run's first token: its longest wait
    assertThat(t1.get(1).kind()).isEqualTo(TurnEvent.Kind.CITATIONS);
    assertThat(t1.get(2).content()).isEqualTo(" there");
    List<TurnEvent> t2 = received.get("t2");
    assertThat(t2.get(0).content()).isEqualTo("ab");
    assertThat(t2.get(1).kind()).isEqualTo(TurnEvent.Kind.DONE);
    assertThat(t2.get(2).content()).isEqualTo("late"); // never joined across another event of its turn
    assertThat(t2.subList(3, 5)).extracting(TurnEvent::content).containsExactly("plain", "after");
    assertThat(on(edge, inbox::deliveries)).isEqualTo(1);
    assertThat(messagesTo).as("bus messages to inboxes of this JVM").isEmpty();
  }

  /**
   * The outbox uses its per-address holders again after a flush (#25): nothing of one flush is sent again,
   * or joined into, by the next, and a holder taken by another kind packs that kind's batch. A refactor
   * check: passes before the reuse too.
   */
  @Test
  void aFlushLeavesNothingBehindForTheNextFlushOfAnyKind() throws Exception {
    Context edge = vertx.getOrCreateContext();
    List<Object> deliveries = Collections.synchronizedList(new ArrayList<>());
    StreamInbox<TurnEvent> turns = on(edge, () -> {
      StreamInbox<TurnEvent> in = StreamInbox.current(vertx, ChatMessages.TURN_STREAM);
      in.register("t1", deliveries::add);
      return in;
    });
    StreamInbox<GenerationEvent> generations = on(edge, () -> {
      StreamInbox<GenerationEvent> in = StreamInbox.current(vertx, EngineMessages.GENERATION_STREAM);
      in.register("g1", deliveries::add);
      return in;
    });
    await(turns.ready());
    await(generations.ready());
    Context pipeline = vertx.getOrCreateContext();
    // three tasks, each flushed when it ends: the second's holder for the turn inbox is the first's, used again;
    // the third sends to the generation inbox only, on a holder a turn batch used before
    int flushes = 0;
    for (List<String> task : List.of(List.of("a", "b"), List.of("c", "d"))) {
      int expected = ++flushes;
      on(pipeline, () -> {
        for (String text : task) {
          StreamOutbox.sendJoined(vertx, ChatMessages.TURN_STREAM, turns.address(), TurnEvent.delta("t1", text, null),
              TurnEvent::joined);
        }
        return null;
      });
      until("the task's batch arrived", Duration.ofSeconds(10), () -> deliveries.size() == expected);
    }
    on(pipeline, () -> {
      StreamOutbox.send(vertx, EngineMessages.GENERATION_STREAM, generations.address(),
          new GenerationEvent("g1", GenerationEvent.Kind.DELTA, "e", null, null, null, null, null));
      return null;
    });
    until("the generation arrived", Duration.ofSeconds(10), () -> deliveries.size() == 3);
    assertThat(deliveries.subList(0, 2)).extracting(e -> ((TurnEvent) e).content()).containsExactly("ab", "cd");
    assertThat(deliveries.get(2)).isInstanceOf(GenerationEvent.class);
    assertThat(((GenerationEvent) deliveries.get(2)).content()).isEqualTo("e");
    assertThat(on(edge, turns::deliveries)).isEqualTo(2);
    assertThat(on(edge, generations::deliveries)).isEqualTo(1);
  }

  @Test
  void anInboxOnAnotherNodeGetsOneBusMessagePerFlush() throws Exception {
    // another node's inbox is known here only by its address: a consumer of the bus
    String remote = ChatMessages.TURN_STREAM.newInboxAddress("other-node");
    List<Object> bodies = Collections.synchronizedList(new ArrayList<>());
    await(vertx.eventBus().consumer(remote, m -> bodies.add(m.body())).completion());
    on(vertx.getOrCreateContext(), () -> {
      for (int i = 0; i < 3; i++) {
        StreamOutbox.sendJoined(vertx, ChatMessages.TURN_STREAM, remote, TurnEvent.delta("r", "w" + i, null),
            TurnEvent::joined);
      }
      return null;
    });
    until("the batch arrived", Duration.ofSeconds(10), () -> bodies.size() == 1);
    assertThat(messagesTo.get(remote)).hasValue(1);
    assertThat(((TurnEvents) bodies.get(0)).events()).extracting(TurnEvent::content).containsExactly("w0w1w2");
  }

  @Test
  void whatABatchsHandlersSendLeavesRightAfterTheBatchNotInATaskOfItsOwn() throws Exception {
    String remote = ChatMessages.TURN_STREAM.newInboxAddress("other-node-batch");
    await(vertx.eventBus().consumer(remote, m -> { }).completion());
    int[] duringBatch = {-1};
    int afterBatch = on(vertx.getOrCreateContext(), () -> {
      StreamOutbox.flushAfter(vertx, () -> { // as an inbox hands one batch to its streams' handlers
        for (int i = 0; i < 3; i++) {
          StreamOutbox.sendJoined(vertx, ChatMessages.TURN_STREAM, remote, TurnEvent.delta("r", "w" + i, null),
              TurnEvent::joined);
        }
        duringBatch[0] = messagesTo.getOrDefault(remote, new AtomicInteger()).get();
      });
      return messagesTo.getOrDefault(remote, new AtomicInteger()).get(); // still in the same task
    });
    assertThat(duringBatch[0]).isZero();
    assertThat(afterBatch).isEqualTo(1);
  }

  @Test
  void anotherVertxInstanceInTheSameJvmStillSendsOverItsBus() throws Exception {
    // two nodes in one JVM (as the cluster tests run them) talk over the bus, never through the registry
    Map<String, List<String>> received = new ConcurrentHashMap<>();
    StreamInbox<TurnEvent> inbox = on(vertx.getOrCreateContext(), () -> turnInbox(received, "t"));
    Vertx other = Vertx.vertx();
    try {
      Codecs.registerAll(other);
      AtomicInteger sent = new AtomicInteger();
      other.eventBus().addOutboundInterceptor(dc -> {
        sent.incrementAndGet();
        dc.next();
      });
      StreamOutbox outbox = StreamOutbox.manual(other.eventBus());
      outbox.send(ChatMessages.TURN_STREAM, inbox.address(), TurnEvent.delta("t", "x", null));
      outbox.flush();
      assertThat(sent).hasValue(1);
      assertThat(on(vertx.getOrCreateContext(), () -> received)).isEmpty(); // not clustered: nowhere to go
      assertThat(messagesTo).isEmpty();
    } finally {
      await(other.close());
    }
  }

  @Test
  void sendersWithoutBatchingStillReachTheirStreams() throws Exception {
    Context edge = vertx.getOrCreateContext();
    Map<String, List<String>> received = new ConcurrentHashMap<>();
    StreamInbox<TurnEvent> inbox = on(edge, () -> turnInbox(received, "t"));
    await(inbox.ready());
    // a single event, as a node of an older version sends it
    vertx.eventBus().send(inbox.address(), TurnEvent.delta("t", "single", null));
    until("the single event arrived", Duration.ofSeconds(10), () -> received.containsKey("t"));
    assertThat(received.get("t")).containsExactly("single");

    // a per-stream address is not an inbox: the outbox sends at once, without a flush
    List<GenerationEvent> direct = Collections.synchronizedList(new ArrayList<>());
    String perStream = Addresses.generationEvents("req-1");
    await(vertx.eventBus().<GenerationEvent>consumer(perStream, m -> direct.add(m.body())).completion());
    StreamOutbox.manual(vertx.eventBus()).send(EngineMessages.GENERATION_STREAM, perStream,
        new GenerationEvent("req-1", GenerationEvent.Kind.DONE, null, null, "stop", new Usage(3, 4), null));
    until("the per-stream event arrived", Duration.ofSeconds(10), () -> direct.size() == 1);
    assertThat(direct.get(0).usage()).isEqualTo(new Usage(3, 4));
  }

  @Test
  void anInboxBelongsToAContext() throws Exception {
    assertThatThrownBy(() -> StreamInbox.current(vertx, ChatMessages.TURN_STREAM))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("context");
    Context one = vertx.getOrCreateContext();
    StreamInbox<TurnEvent> inbox = on(one, () -> StreamInbox.current(vertx, ChatMessages.TURN_STREAM));
    assertThat(on(one, () -> StreamInbox.current(vertx, ChatMessages.TURN_STREAM))).isSameAs(inbox);
    assertThatThrownBy(() -> on(vertx.getOrCreateContext(), () -> {
      inbox.register("x", e -> { });
      return null;
    })).hasRootCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void onlyAnInboxOfItsOwnKindIsBatched() throws Exception {
    StreamInbox<TurnEvent> turns = on(vertx.getOrCreateContext(),
        () -> StreamInbox.current(vertx, ChatMessages.TURN_STREAM));
    assertThat(ChatMessages.TURN_STREAM.isInbox(turns.address())).isTrue();
    assertThat(EngineMessages.GENERATION_STREAM.isInbox(turns.address())).isFalse();
    assertThat(ChatMessages.TURN_STREAM.isInbox("inbox.turn")).isFalse();
    assertThat(ChatMessages.TURN_STREAM.isInbox("inbox.turnover.x")).isFalse();
    assertThat(ChatMessages.TURN_STREAM.isInbox(Addresses.generationEvents("r"))).isFalse();
  }

  @Test
  void batchesCrossTheWireBetweenNodes() {
    GenerationEvents generation = new GenerationEvents(List.of(
        new GenerationEvent("r1", GenerationEvent.Kind.DELTA, "你好", "think", null, null, null, new EngineStamp(5, 9)),
        new GenerationEvent("r2", GenerationEvent.Kind.DONE, null, null, "length", new Usage(7, 16), null)));
    TurnEvents turns = new TurnEvents(List.of(TurnEvent.delta("t1", "a", null), TurnEvent.error("t2", "x", "y")));
    assertThat(roundTrip(GenerationEvents.class, generation)).isEqualTo(generation);
    assertThat(roundTrip(TurnEvents.class, turns)).isEqualTo(turns);
  }

  private static <T extends Record> T roundTrip(Class<T> type, T value) {
    RecordCodec<T> codec = new RecordCodec<>(type);
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, value);
    return codec.decodeFromWire(0, wire);
  }

  private StreamInbox<TurnEvent> turnInbox(Map<String, List<String>> received, String... turns) {
    StreamInbox<TurnEvent> inbox = StreamInbox.current(vertx, ChatMessages.TURN_STREAM);
    for (String turn : turns) {
      inbox.register(turn, e -> received.computeIfAbsent(turn, k -> Collections.synchronizedList(new ArrayList<>()))
          .add(e.content()));
    }
    return inbox;
  }

  private static <T> T on(Context ctx, Callable<T> task) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    ctx.runOnContext(v -> {
      try {
        result.complete(task.call());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    });
    return result.get(10, TimeUnit.SECONDS);
  }
}
