package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One simulated user in a closed loop: a turn, its streamed answer, a think time (uniform between half
 * and one and a half times the mean), the next turn; until {@link #stop()}, after which the current
 * answer still finishes. Every turn's message is made unique, so that no answer can come from the
 * response cache (greedy answers to a repeated first question would). Subclasses speak one protocol.
 */
abstract class LoadClient {

  private static final AtomicInteger IDS = new AtomicInteger();

  protected final Vertx vertx;
  protected final StepStats stats;
  private final String message;
  private final long thinkMs;
  private final int id = IDS.incrementAndGet();
  private int turns;
  protected final Promise<Void> finished = Promise.promise();
  private volatile boolean stopping;
  private boolean inTurn;
  private Promise<Void> once;

  LoadClient(Vertx vertx, StepStats stats, String message, long thinkMs) {
    this.vertx = vertx;
    this.stats = stats;
    this.message = message;
    this.thinkMs = thinkMs;
  }

  /** This turn's message: the configured one, numbered. */
  protected final String message() {
    return message + " (" + id + "." + turns + ")";
  }

  /** Connects, then runs turns; completes when the client has stopped. */
  abstract Future<Void> start();

  /** Sends one turn (called on the client's context). */
  protected abstract void sendTurn();

  /** Releases the connection once stopped. */
  protected abstract void disconnect();

  void stop() {
    stopping = true;
  }

  Future<Void> finished() {
    return finished.future();
  }

  /** One turn on an open connection, which stays open afterwards (the memory measurement). */
  Future<Void> oneTurn() {
    once = Promise.promise();
    inTurn = true;
    turns++;
    stats.open.incrementAndGet();
    sendTurn();
    return once.future();
  }

  protected final void nextTurn() {
    if (stopping) {
      disconnect();
      finished.tryComplete();
      return;
    }
    inTurn = true;
    turns++;
    stats.open.incrementAndGet();
    sendTurn();
  }

  /** The answer ended (done or error): think, then the next turn. */
  protected final void endTurn() {
    if (!inTurn) {
      return;
    }
    inTurn = false;
    stats.open.decrementAndGet();
    if (once != null) {
      Promise<Void> p = once;
      once = null;
      p.complete();
      return;
    }
    long think = thinkMs <= 0 ? 1 : Math.max(1, (long) (thinkMs * (0.5 + ThreadLocalRandom.current().nextDouble())));
    vertx.setTimer(think, id -> nextTurn());
  }

  protected final void fail(String code) {
    stats.error(code, System.nanoTime());
    endTurn();
  }
}
