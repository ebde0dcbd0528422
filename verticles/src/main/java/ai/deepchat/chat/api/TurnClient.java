package ai.deepchat.chat.api;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.CancelTurn;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * The HTTP edges' side of a turn: listens on the turn's events address, asks a conversation verticle
 * to start the turn (a short request timeout, so a dead pipeline node fails fast), and delivers events
 * in order until the terminal one. If the pipeline goes silent (keep-alives count as a sign of life) for
 * longer than its own idle timeout the stream ends with an error event, so no client waits forever.
 */
public final class TurnClient {

  private final Vertx vertx;
  private final long requestTimeoutMs;
  private final long silenceLimitMs;

  public TurnClient(Vertx vertx, long requestTimeoutMs, long idleTimeoutMs) {
    this.vertx = vertx;
    this.requestTimeoutMs = requestTimeoutMs;
    // the pipeline's own timeouts fire first; this only catches a pipeline node that vanished
    this.silenceLimitMs = idleTimeoutMs + 2 * requestTimeoutMs;
  }

  public Stream start(TurnRequest request) {
    return new Stream(request);
  }

  /** One turn's events. Set the handler once the ack arrived; earlier events wait in order. */
  public final class Stream {
    private final TurnRequest request;
    private final MessageConsumer<TurnEvent> consumer;
    private final Queue<TurnEvent> early = new ArrayDeque<>();
    private final Future<TurnAck> ack;
    private Handler<TurnEvent> handler;
    private Runnable keepAliveHandler;
    private long silenceTimer = -1;
    private boolean closed;

    private Stream(TurnRequest request) {
      this.request = request;
      this.consumer = vertx.eventBus().consumer(request.eventsAddress(), msg -> deliver(msg.body()));
      this.ack = consumer.completion()
          .compose(v -> vertx.eventBus().<TurnAck>request(Addresses.CHAT_TURN, request,
              new DeliveryOptions().setSendTimeout(requestTimeoutMs)))
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
      armSilence();
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

    private void dispatch(TurnEvent event) {
      if (event.terminal()) {
        close();
      }
      handler.handle(event);
    }

    private void armSilence() {
      if (closed) {
        return;
      }
      if (silenceTimer >= 0) {
        vertx.cancelTimer(silenceTimer);
      }
      silenceTimer = vertx.setTimer(silenceLimitMs, t -> {
        if (!closed) {
          cancel();
          if (handler != null) {
            handler.handle(TurnEvent.error(request.turnId(), "timeout", "The answer stopped arriving."));
          }
        }
      });
    }

    private void close() {
      closed = true;
      if (silenceTimer >= 0) {
        vertx.cancelTimer(silenceTimer);
      }
      consumer.unregister();
    }
  }
}
