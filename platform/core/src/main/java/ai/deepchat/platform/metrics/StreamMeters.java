package ai.deepchat.platform.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The meters of one (tenant label, model label) pair's answers, each found in the registry once per pair
 * instead of once per answer (a lookup builds a meter id, its distribution settings, and hashes its tags:
 * five per answer showed in event-loop profiles). Each meter is still registered only when first used, as
 * before. Thread-safe: a race registers the same meter twice, and the registry returns the one it holds.
 */
final class StreamMeters {

  private final PlatformMetrics metrics;
  private final Tags tags;
  private volatile Timer ttft;
  private volatile Timer interToken;
  private volatile Counter generated;
  private volatile DistributionSummary tokensPerSecond;
  private final Counter[] streams = new Counter[StreamMetrics.Outcome.values().length];

  StreamMeters(PlatformMetrics metrics, Tags tags) {
    this.metrics = metrics;
    this.tags = tags;
  }

  Tags tags() {
    return tags;
  }

  Timer ttft() {
    Timer t = ttft;
    return t != null ? t : (ttft = metrics.ttft(tags));
  }

  Timer interToken() {
    Timer t = interToken;
    return t != null ? t : (interToken = metrics.interToken(tags));
  }

  Counter generated() {
    Counter c = generated;
    return c != null ? c : (generated = metrics.generatedTokens(tags));
  }

  /** Decode speed is labelled by model only. */
  DistributionSummary tokensPerSecond() {
    DistributionSummary s = tokensPerSecond;
    return s != null ? s : (tokensPerSecond = metrics.tokensPerSecond(
        Tags.of(tags.stream().filter(t -> t.getKey().equals("model")).toList())));
  }

  Counter streams(StreamMetrics.Outcome outcome) {
    Counter c = streams[outcome.ordinal()]; // a stale null only registers again
    if (c == null) {
      c = metrics.streams(tags, outcome.name().toLowerCase());
      streams[outcome.ordinal()] = c;
    }
    return c;
  }
}
