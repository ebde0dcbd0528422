package ai.deepchat.bench;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the clients of one bench step saw, counted only inside the step's measurement window (after
 * the warm-up): end-to-end time to first token and inter-token gaps, tokens, answers, errors by code,
 * and how many streams were open.
 */
final class StepStats {

  final Histogram ttft = new Histogram();
  final Histogram gaps = new Histogram();
  /** Time per output token of each answer: first to last token over the tokens after the first. */
  final Histogram tpot = new Histogram();
  /** Whole turns: from sending the message or request to the answer's end (its usage). */
  final Histogram turns = new Histogram();
  /** Completion tokens of answers that ended in the window (the usage the platform reported). */
  final LongAdder tokens = new LongAdder();
  final LongAdder deltas = new LongAdder();
  final LongAdder answers = new LongAdder();
  final ErrorTally errors = new ErrorTally();
  /** Answers by the intent the API reported (the FAQ mode checks they were the FAQ's). */
  final ErrorTally intents = new ErrorTally();
  /** Streams in flight now (a turn sent and its answer not yet ended), sampled for the mean. */
  final AtomicInteger open = new AtomicInteger();
  private final LongAdder openSamples = new LongAdder();
  private final LongAdder openSum = new LongAdder();
  private volatile long from = Long.MAX_VALUE;
  private volatile long to = Long.MAX_VALUE;

  void window(long fromNanos, long toNanos) {
    from = fromNanos;
    to = toNanos;
  }

  boolean counts(long nanos) {
    return nanos >= from && nanos < to;
  }

  void sampleOpen(long now) {
    if (counts(now)) {
      openSamples.increment();
      openSum.add(open.get());
    }
  }

  double meanOpen() {
    long n = openSamples.sum();
    return n == 0 ? 0 : (double) openSum.sum() / n;
  }

  void error(String code, long now) {
    if (counts(now)) {
      errors.add(code);
    }
  }

  long errorCount() {
    return errors.total();
  }

  Map<String, Long> errorsByCode() {
    return errors.byCode();
  }

  /** Timing of one turn as the client sees it. */
  final class Turn {
    private final long sentAt = System.nanoTime();
    private long firstTokenAt = -1;
    private long lastTokenAt = -1;

    void delta(long now) {
      if (counts(now)) {
        if (lastTokenAt < 0) {
          ttft.record(now - sentAt);
        } else {
          gaps.record(now - lastTokenAt);
        }
        deltas.increment();
      }
      if (firstTokenAt < 0) {
        firstTokenAt = now;
      }
      lastTokenAt = now;
    }

    void done(long now, int completionTokens) {
      done(now, completionTokens, null);
    }

    void done(long now, int completionTokens, String intent) {
      if (counts(now)) {
        if (intent != null) {
          intents.add(intent);
        }
        answers.increment();
        turns.record(now - sentAt);
        tokens.add(completionTokens);
        if (completionTokens > 1 && firstTokenAt >= 0) {
          tpot.record((lastTokenAt - firstTokenAt) / (completionTokens - 1));
        }
      }
    }
  }
}
