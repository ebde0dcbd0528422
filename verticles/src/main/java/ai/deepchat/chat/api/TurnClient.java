package ai.deepchat.chat.api;

import ai.deepchat.chat.conversation.TurnLoops;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.tokenizer.tools.ToolCallAssembler;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.bus.StreamInbox;
import ai.deepchat.platform.bus.StreamOrder;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.CancelTurn;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.metrics.PlatformMetrics;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * The HTTP edges' side of a turn: listens for the turn's events on this context's {@link StreamInbox}
 * (the pipeline sends each inbox one message per batch of events, for all its turns), asks a
 * conversation verticle to start the turn (the one on this event loop when the node has one there:
 * {@link TurnLoops}; a short request timeout, so a dead pipeline node fails fast), and delivers events
 * in order until the terminal one. If the pipeline goes silent (keep-alives count as a sign of life)
 * for longer than its own idle timeout the stream ends with an error event, so no client waits forever.
 * Deltas from the local engine are timed here, where they are written to the client: the platform's
 * added latency (see {@link #measure}).
 */
public final class TurnClient {

  private static final Logger LOG = LoggerFactory.getLogger(TurnClient.class);

  /**
   * A whole answer; {@code last} is the DONE or ERROR event that ended it; {@code toolCalls}: the calls
   * it made; {@code logprobs}: its tokens' log-probabilities (empty unless the turn asked for them).
   */
  public record WholeAnswer(String content, String reasoning, List<Citation> citations, TurnEvent last,
                            List<ToolCall> toolCalls, List<TokenLogprob> logprobs) {
    public WholeAnswer(String content, String reasoning, List<Citation> citations, TurnEvent last) {
      this(content, reasoning, citations, last, List.of(), List.of());
    }
  }

  private final Vertx vertx;
  private final long requestTimeoutMs;
  private final long silenceLimitMs;

  public TurnClient(Vertx vertx, long requestTimeoutMs, long idleTimeoutMs) {
    this.vertx = vertx;
    this.requestTimeoutMs = requestTimeoutMs;
    // the pipeline's own timeouts fire first; this only catches a pipeline node that vanished
    this.silenceLimitMs = idleTimeoutMs + 2 * requestTimeoutMs;
  }

  /**
   * Starts {@code request} (its events address is set here). {@code receivedAtMicros}: when the edge
   * received the request (wall clock, epoch microseconds), where the platform's added time to first
   * token starts: authentication and rate limiting come before this. Call on the edge's context.
   */
  public Stream start(TurnRequest request, long receivedAtMicros) {
    return new Stream(request, receivedAtMicros);
  }

  /** One turn's events. Set the handler once the ack arrived; earlier events wait in order. */
  public final class Stream {
    private final TurnRequest request;
    private final StreamInbox<TurnEvent> inbox;
    private final Queue<TurnEvent> early = new ArrayDeque<>();
    private final Future<TurnAck> ack;
    private Handler<TurnEvent> handler;
    private Runnable keepAliveHandler;
    private final long receivedAtMicros;
    private boolean firstDelta = true;
    private long silenceTimer = -1;
    private long lastEventAt = System.nanoTime();
    private boolean closed;
    private final StreamOrder order = new StreamOrder();

    private Stream(TurnRequest turn, long receivedAtMicros) {
      this.inbox = StreamInbox.current(vertx, ChatMessages.TURN_STREAM);
      this.request = turn.withEventsAddress(inbox.address());
      this.receivedAtMicros = receivedAtMicros;
      inbox.register(request.turnId(), this::deliver);
      this.ack = inbox.ready()
          .compose(v -> TurnLoops.start(vertx, request, requestTimeoutMs))
          .map(msg -> msg.body())
          .onSuccess(a -> armSilence())
          .onFailure(err -> close());
    }

    public Future<TurnAck> ack() {
      return ack;
    }

    public void handler(Handler<TurnEvent> handler) {
      this.handler = handler;
      while (!early.isEmpty() && this.handler != null) {
        dispatch(early.poll());
      }
    }

    /**
     * The answer gathered whole (for clients that did not ask for a stream): its text, reasoning and
     * citations, and the event that ended it (DONE, or ERROR with what was gathered until then).
     */
    public Future<WholeAnswer> whole() {
      Promise<WholeAnswer> done = Promise.promise();
      StringBuilder content = new StringBuilder();
      StringBuilder reasoning = new StringBuilder();
      List<Citation> citations = new ArrayList<>();
      ToolCallAssembler calls = new ToolCallAssembler();
      List<TokenLogprob> logprobs = new ArrayList<>();
      handler(event -> {
        switch (event.kind()) {
          case DELTA -> {
            if (event.logprobs() != null) {
              logprobs.addAll(event.logprobs());
            }
            if (event.content() != null) {
              content.append(event.content());
            }
            if (event.reasoning() != null) {
              reasoning.append(event.reasoning());
            }
            calls.accept(event.toolCalls());
          }
          case CITATIONS -> citations.addAll(event.citations());
          case DONE, ERROR -> done.tryComplete(new WholeAnswer(content.toString(), reasoning.toString(),
              List.copyOf(citations), event, calls.calls(), List.copyOf(logprobs)));
        }
      });
      return done.future();
    }

    /**
     * Called on each keep-alive of the pipeline (sent while an answer is held back for a rewriting
     * plugin), so an edge can keep its connection busy for proxies with short read timeouts.
     */
    public void keepAliveHandler(Runnable keepAliveHandler) {
      this.keepAliveHandler = keepAliveHandler;
    }

    /** The client went away: the pipeline stops generating and stores what was delivered. */
    public void cancel() {
      if (!closed) {
        close();
        vertx.eventBus().publish(Addresses.CHAT_TURN_CANCEL, new CancelTurn(request.turnId()));
      }
    }

    private void deliver(TurnEvent event) {
      if (closed) {
        return;
      }
      int before = order.last();
      if (!order.accept(event.seq())) {
        lost(event.seq(), before);
        return;
      }
      lastEventAt = System.nanoTime();
      if (event.isKeepAlive()) {
        if (keepAliveHandler != null && handler != null) {
          keepAliveHandler.run();
        }
        return;
      }
      if (handler == null) {
        early.add(event);
      } else {
        dispatch(event);
      }
    }

    /**
     * The bus lost part of the answer between the pipeline's node and this one (it delivers at most once
     * between nodes; a connection lost while a cluster heals drops what it held). The client gets an
     * error, not an answer with a hole: the pipeline still finishes and stores the whole answer, which a
     * retry with the same idempotency key is given. The turn is not cancelled for that reason.
     */
    private void lost(int seq, int lastSeen) {
      LOG.warn("turn {}: event {} arrived after event {}; the events between were lost on the bus",
          request.turnId(), seq, lastSeen);
      PlatformMetrics.get().streamGap("turn");
      close();
      TurnEvent error = TurnEvent.error(request.turnId(), BusFailure.BACKEND_UNAVAILABLE.apiCode(),
          "Part of the answer was lost on its way through the cluster; retry the request with the same "
              + "Idempotency-Key to be given the whole answer.");
      if (handler == null) {
        early.add(error);
      } else {
        handler.handle(error);
      }
    }

    private void dispatch(TurnEvent event) {
      if (event.terminal()) {
        close();
      }
      handler.handle(event);
      if (event.kind() == TurnEvent.Kind.DELTA) {
        measure(event.engine());
      }
    }

    /**
     * Called once the handler wrote a delta: the time since the worker emitted it is the platform's
     * (bus hops, moderation, encoding, the write). For the first delta, the gateway's time to first token
     * (from the request's arrival) minus the engine's own (admission to first token) is what the platform
     * added before the first token.
     */
    private void measure(EngineStamp engine) {
      boolean first = firstDelta;
      firstDelta = false;
      if (engine == null) {
        return; // a cached, FAQ or remote answer: no engine clock to compare with
      }
      long now = EngineStamp.nowMicros();
      PlatformMetrics metrics = PlatformMetrics.get();
      metrics.addedLatency(request.channel(), now - engine.emittedAtMicros());
      if (first) {
        metrics.addedTimeToFirstToken(request.channel(), now - receivedAtMicros - engine.engineMicros());
      }
    }

    /**
     * Watches for silence from the ack on. One timer per stream, re-armed only when it fires early: an
     * event just records its time, since cancelling and setting a timer on every token costs a
     * scheduler-queue removal and insertion each.
     */
    private void armSilence() {
      lastEventAt = System.nanoTime();
      if (!closed && silenceTimer < 0) {
        watchSilence(silenceLimitMs);
      }
    }

    private void watchSilence(long delayMs) {
      silenceTimer = vertx.setTimer(Math.max(1, delayMs), t -> {
        silenceTimer = -1;
        if (closed) {
          return;
        }
        long quietMs = (System.nanoTime() - lastEventAt) / 1_000_000;
        if (quietMs < silenceLimitMs) {
          watchSilence(silenceLimitMs - quietMs);
          return;
        }
        cancel();
        if (handler != null) {
          handler.handle(TurnEvent.error(request.turnId(), BusFailure.TIMEOUT.apiCode(), "The answer stopped arriving."));
        }
      });
    }

    private void close() {
      closed = true;
      if (silenceTimer >= 0) {
        vertx.cancelTimer(silenceTimer);
      }
      inbox.unregister(request.turnId());
    }
  }
}
