package ai.deepchat.canary.guard;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;

/**
 * Outcomes of the last {@code retainMillis} (at most {@code capacity} of them, oldest dropped first),
 * summarized over any shorter window. Synchronized: outcomes arrive from every event loop.
 */
public final class OutcomeWindow {

  private record Sample(long atMillis, boolean ok, long ttftMillis, double tokensPerSecond) {
  }

  /** A window's numbers; p95 and tokens/s are -1 when no sample had them. */
  public record Stats(int requests, int errors, long p50TtftMillis, long p95TtftMillis, double tokensPerSecond) {
    public double errorRate() {
      return requests == 0 ? 0 : (double) errors / requests;
    }
  }

  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  private final long retainMillis;
  private final int capacity;

  public OutcomeWindow(long retainMillis, int capacity) {
    this.retainMillis = retainMillis;
    this.capacity = capacity;
  }

  public synchronized void add(long nowMillis, Outcome o) {
    samples.addLast(new Sample(nowMillis, o.ok(), o.ok() ? o.ttftMillis() : -1, o.tokensPerSecond()));
    while (samples.size() > capacity) {
      samples.removeFirst();
    }
    trim(nowMillis);
  }

  public synchronized Stats stats(long nowMillis, long windowMillis) {
    trim(nowMillis);
    long from = nowMillis - windowMillis;
    int requests = 0;
    int errors = 0;
    long[] ttft = new long[samples.size()];
    int nTtft = 0;
    double tpsSum = 0;
    int nTps = 0;
    for (Iterator<Sample> it = samples.descendingIterator(); it.hasNext(); ) {
      Sample s = it.next();
      if (s.atMillis() < from) {
        break;
      }
      requests++;
      if (!s.ok()) {
        errors++;
      }
      if (s.ttftMillis() >= 0) {
        ttft[nTtft++] = s.ttftMillis();
      }
      if (s.tokensPerSecond() >= 0) {
        tpsSum += s.tokensPerSecond();
        nTps++;
      }
    }
    Arrays.sort(ttft, 0, nTtft);
    return new Stats(requests, errors, percentile(ttft, nTtft, 0.50), percentile(ttft, nTtft, 0.95),
        nTps == 0 ? -1 : tpsSum / nTps);
  }

  /** Nearest-rank percentile of the first {@code n} sorted values. */
  private static long percentile(long[] sorted, int n, double p) {
    if (n == 0) {
      return -1;
    }
    int rank = (int) Math.ceil(p * n);
    return sorted[Math.max(0, rank - 1)];
  }

  private void trim(long nowMillis) {
    while (!samples.isEmpty() && samples.peekFirst().atMillis() < nowMillis - retainMillis) {
      samples.removeFirst();
    }
  }
}
