package ai.deepchat.platform.metrics;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Timing of one streamed answer. Not thread-safe: call it from the one context that forwards the
 * answer's deltas (an event loop), which is where the client-visible timing happens.
 */
public final class StreamMetrics {

  /** Outcomes; a fixed set so the label stays bounded. */
  public enum Outcome { COMPLETE, ERROR, CANCELLED, INTERRUPTED }

  private final StreamMeters meters;
  private final Clock clock;
  private final long started;
  private final AtomicBoolean finished = new AtomicBoolean();
  private long firstTokenAt = -1;
  private long lastTokenAt = -1;
  private long tokens;
  // taken at the first token, not at every one
  private Timer interToken;
  private Counter generated;

  StreamMetrics(StreamMeters meters, Clock clock) {
    this.meters = meters;
    this.clock = clock;
    this.started = clock.monotonicTime();
  }

  /**
   * {@code count} tokens were just sent to the client. The first call records time to first token;
   * later calls record the gap since the previous delta spread evenly over its tokens.
   */
  public void tokens(int count) {
    if (count <= 0 || finished.get()) {
      return;
    }
    long now = clock.monotonicTime();
    if (firstTokenAt < 0) {
      firstTokenAt = now;
      meters.ttft().record(now - started, TimeUnit.NANOSECONDS);
      interToken = meters.interToken();
      generated = meters.generated();
    } else {
      long each = (now - lastTokenAt) / count;
      for (int i = 0; i < count; i++) {
        interToken.record(each, TimeUnit.NANOSECONDS);
      }
    }
    lastTokenAt = now;
    tokens += count;
    generated.increment(count);
  }

  /** Ends the stream once (later calls are ignored): outcome counter and decode speed. */
  public void finish(Outcome outcome) {
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    meters.streams(outcome).increment();
    if (tokens > 1 && lastTokenAt > firstTokenAt) {
      double seconds = (lastTokenAt - firstTokenAt) / 1e9;
      meters.tokensPerSecond().record((tokens - 1) / seconds);
    }
  }

  public long tokenCount() {
    return tokens;
  }
}
