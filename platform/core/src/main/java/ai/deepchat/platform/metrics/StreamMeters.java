package ai.deepchat.platform.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The meters of the streams of one tenant and model label, each found in the registry the first time a
 * stream needs it and kept: every turn starts a stream, and a registry lookup builds an id and hashes
 * its tags (five per turn before, #25). Found lazily, as before, so a meter is registered only once a
 * stream records into it (a tenant whose answers are all FAQ answers shows no time-to-first-token
 * series). Thread-safe: two streams may find a meter at once, and the registry hands both the same one.
 */
final class StreamMeters {

  private final PlatformMetrics metrics;
  private final Tags tags;
  private final Tags modelTags;
  private volatile Timer ttft;
  private volatile Timer interToken;
  private volatile Counter generated;
  private volatile DistributionSummary tokensPerSecond;
  private final AtomicReferenceArray<Counter> outcomes =
      new AtomicReferenceArray<>(StreamMetrics.Outcome.values().length);

  StreamMeters(PlatformMetrics metrics, String tenantLabel, String modelLabel) {
    this.metrics = metrics;
    this.tags = Tags.of("tenant", tenantLabel, "model", modelLabel);
    this.modelTags = Tags.of("model", modelLabel);
  }

  Tags tags() {
    return tags;
  }

  Timer ttft() {
    Timer t = ttft;
    if (t == null) {
      ttft = t = metrics.ttft(tags);
    }
    return t;
  }

  Timer interToken() {
    Timer t = interToken;
    if (t == null) {
      interToken = t = metrics.interToken(tags);
    }
    return t;
  }

  Counter generated() {
    Counter c = generated;
    if (c == null) {
      generated = c = metrics.generatedTokens(tags);
    }
    return c;
  }

  /** Decode speed, by model only (the tenant is not a label of this one). */
  DistributionSummary tokensPerSecond() {
    DistributionSummary s = tokensPerSecond;
    if (s == null) {
      tokensPerSecond = s = metrics.tokensPerSecond(modelTags);
    }
    return s;
  }

  Counter streams(StreamMetrics.Outcome outcome) {
    Counter c = outcomes.get(outcome.ordinal());
    if (c == null) {
      c = metrics.streams(tags, outcome.name().toLowerCase());
      outcomes.set(outcome.ordinal(), c);
    }
    return c;
  }
}
