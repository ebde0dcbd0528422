package ai.deepchat.tokenizer.stream;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Stop strings over streamed text. Text that could still be the start of a stop string is held
 * back (only that tail, so streaming is not delayed otherwise) and released as soon as it cannot
 * match; on a match the stream is cut just before the stop string, which is not emitted.
 *
 * <p>When several stops occur, the one that completes first wins (earliest end, then the longer),
 * which is where a generation that checks after every token would have stopped; the result does not
 * depend on how the text was split into deltas. Not thread-safe: one instance per generation.
 */
final class StopMatcher {

  /**
   * @param text    what may be emitted now
   * @param stopped whether a stop string was found; the generation should end
   * @param stop    the stop string found
   */
  public record Result(String text, boolean stopped, Optional<String> stop) {
    static final Result NOTHING = new Result("", false, Optional.empty());
  }

  private final List<String> stops;
  private final int longest;
  private String held = "";
  private boolean stopped;

  /** Empty strings are ignored (they would match everywhere). */
  public StopMatcher(Collection<String> stops) {
    this.stops = stops.stream().filter(s -> !s.isEmpty()).distinct().toList();
    this.longest = this.stops.stream().mapToInt(String::length).max().orElse(0);
  }

  public Result accept(String delta) {
    if (stopped) {
      return new Result("", true, Optional.empty());
    }
    if (stops.isEmpty()) {
      return delta.isEmpty() ? Result.NOTHING : new Result(delta, false, Optional.empty());
    }
    String buffer = held + delta;
    int bestStart = -1;
    int bestEnd = Integer.MAX_VALUE;
    String best = null;
    for (String stop : stops) {
      int at = buffer.indexOf(stop);
      if (at >= 0) {
        int end = at + stop.length();
        if (end < bestEnd || (end == bestEnd && at < bestStart)) {
          bestStart = at;
          bestEnd = end;
          best = stop;
        }
      }
    }
    if (best != null) {
      stopped = true;
      held = "";
      return new Result(buffer.substring(0, bestStart), true, Optional.of(best));
    }
    int keep = partialMatchLength(buffer);
    held = buffer.substring(buffer.length() - keep);
    String out = buffer.substring(0, buffer.length() - keep);
    return out.isEmpty() ? Result.NOTHING : new Result(out, false, Optional.empty());
  }

  /** Ends the stream without a stop: releases the held tail. */
  public String finish() {
    String out = held;
    held = "";
    return out;
  }

  public boolean stopped() {
    return stopped;
  }

  /** Length of the longest suffix of {@code buffer} that is a proper prefix of some stop. */
  private int partialMatchLength(String buffer) {
    for (int len = Math.min(longest - 1, buffer.length()); len > 0; len--) {
      int from = buffer.length() - len;
      for (String stop : stops) {
        if (stop.length() > len && buffer.regionMatches(from, stop, 0, len)) {
          return len;
        }
      }
    }
    return 0;
  }
}
