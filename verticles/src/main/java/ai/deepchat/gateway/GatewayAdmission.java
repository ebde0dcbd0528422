package ai.deepchat.gateway;

import ai.deepchat.platform.cluster.ClusterQuorum;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one node's gateway admits: a bound on concurrent streamed answers (the excess is refused at
 * once, never queued), the drain state of a stopping node, and whether the node is on the majority
 * side of its cluster ({@link ClusterQuorum}). One per Vert.x instance, shared by
 * every gateway verticle instance and by the chat routes (found with {@link #of}).
 */
public final class GatewayAdmission implements Shareable {

  private static final String MAP = "deepchat.gateway";
  private static final String KEY = "admission";

  /** Why a stream was refused; the metric label and the error code. */
  public enum Refusal { OVERLOAD, DRAINING, NO_MAJORITY }

  private final int maxStreams;
  private final int retryAfterSeconds;
  private final ClusterQuorum quorum;
  private final AtomicInteger streams = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean draining;

  GatewayAdmission(int maxStreams, int retryAfterSeconds, ClusterQuorum quorum) {
    this.maxStreams = maxStreams;
    this.retryAfterSeconds = retryAfterSeconds;
    this.quorum = quorum;
  }

  /** This Vert.x instance's admission, created from {@code ops} on first use. */
  public static GatewayAdmission of(Vertx vertx, PlatformConfig.Operations ops) {
    return (GatewayAdmission) vertx.sharedData().getLocalMap(MAP)
        .computeIfAbsent(KEY, k -> new GatewayAdmission(ops.maxConcurrentStreams(), ops.retryAfterSeconds(),
            ClusterQuorum.of(vertx)));
  }

  /** The admission the gateway installed, if this node runs one. */
  public static Optional<GatewayAdmission> find(Vertx vertx) {
    return Optional.ofNullable((GatewayAdmission) vertx.sharedData().getLocalMap(MAP).get(KEY));
  }

  /**
   * A slot for one streamed answer, or the reason there is none. Release the permit when the answer
   * ends (done, error, client gone); releasing twice is harmless.
   */
  public Admitted tryAcquireStream() {
    if (draining) {
      return new Admitted(null, Refusal.DRAINING);
    }
    if (!quorum.hasMajority()) {
      return new Admitted(null, Refusal.NO_MAJORITY);
    }
    while (true) {
      int n = streams.get();
      if (n >= maxStreams) {
        return new Admitted(null, Refusal.OVERLOAD);
      }
      if (streams.compareAndSet(n, n + 1)) {
        return new Admitted(new Permit(), null);
      }
    }
  }

  /** Why a stream would be refused right now (null: a slot is free), without taking one. */
  public Refusal refusalNow() {
    if (draining) {
      return Refusal.DRAINING;
    }
    if (!quorum.hasMajority()) {
      return Refusal.NO_MAJORITY;
    }
    return saturated() ? Refusal.OVERLOAD : null;
  }

  /** Every stream slot is taken: new streams are refused until one ends. */
  public boolean saturated() {
    return streams.get() >= maxStreams;
  }

  /** Either a permit or a refusal. */
  public record Admitted(Permit permit, Refusal refusal) {
    public boolean admitted() {
      return permit != null;
    }
  }

  /** One held stream slot. */
  public final class Permit implements AutoCloseable {
    private final AtomicBoolean released = new AtomicBoolean();

    private Permit() {
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        streams.decrementAndGet();
      }
    }
  }

  void requestStarted() {
    inFlight.incrementAndGet();
  }

  void requestEnded() {
    inFlight.decrementAndGet();
  }

  public boolean draining() {
    return draining;
  }

  /** False while this node is cut off from most of its cluster. */
  public boolean hasMajority() {
    return quorum.hasMajority();
  }

  public ClusterQuorum quorum() {
    return quorum;
  }

  public int activeStreams() {
    return streams.get();
  }

  public int inFlightRequests() {
    return inFlight.get();
  }

  public int maxStreams() {
    return maxStreams;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /**
   * Stops admitting streams (readiness turns DOWN, new streams get 503) and completes once at least
   * {@code minimum} has passed and no request or stream is in flight, or when {@code grace} has
   * passed, whichever comes first. The boolean says whether everything finished in time.
   */
  public Future<Boolean> drain(Vertx vertx, Duration minimum, Duration grace) {
    draining = true;
    Promise<Boolean> done = Promise.promise();
    long start = System.nanoTime();
    long earliest = start + Math.min(minimum.toNanos(), grace.toNanos());
    long deadline = start + grace.toNanos();
    checkDrained(vertx, done, earliest, deadline, 1);
    return done.future();
  }

  /**
   * One check of the drain, re-armed as a one-shot timer until it completes. Not a periodic timer
   * cancelled from its own run: Vert.x 5 stores a periodic timer's handle only after handing it to the
   * event loop, so when the launcher's shutdown hook (not a Vert.x thread) was preempted in between, the
   * first run cancelled a timer without a handle and threw a NullPointerException on Ctrl-C.
   */
  private void checkDrained(Vertx vertx, Promise<Boolean> done, long earliest, long deadline, long delayMs) {
    vertx.setTimer(delayMs, id -> {
      long now = System.nanoTime();
      boolean idle = streams.get() == 0 && inFlight.get() == 0;
      if ((idle && now >= earliest) || now >= deadline) {
        done.tryComplete(idle);
      } else {
        checkDrained(vertx, done, earliest, deadline, 50);
      }
    });
  }
}
