package ai.deepchat.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Prometheus histogram as scraped from {@code /metrics}, summed over its label values: cumulative
 * bucket counts by upper edge (seconds). Two scrapes subtracted give the samples recorded between
 * them, which is how a bench step reads the platform's own added-latency histograms.
 */
final class ScrapedHistogram {

  private static final Pattern BUCKET = Pattern.compile("^(\\w+)_bucket\\{(.*)}\\s+(\\S+)");
  private static final Pattern LE = Pattern.compile("le=\"([^\"]+)\"");

  /** Upper edge in seconds (+Inf as infinity) to cumulative count. */
  private final TreeMap<Double, Double> cumulative;

  private ScrapedHistogram(TreeMap<Double, Double> cumulative) {
    this.cumulative = cumulative;
  }

  static ScrapedHistogram parse(String metricsText, String name) {
    TreeMap<Double, Double> buckets = new TreeMap<>();
    for (String line : metricsText.split("\n")) {
      if (!line.startsWith(name + "_bucket")) {
        continue;
      }
      Matcher m = BUCKET.matcher(line);
      if (!m.find() || !m.group(1).equals(name)) {
        continue;
      }
      Matcher le = LE.matcher(m.group(2));
      if (!le.find()) {
        continue;
      }
      double edge = le.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1));
      buckets.merge(edge, Double.parseDouble(m.group(3)), Double::sum);
    }
    return new ScrapedHistogram(buckets);
  }

  /** What was recorded after {@code earlier} was scraped. */
  ScrapedHistogram minus(ScrapedHistogram earlier) {
    TreeMap<Double, Double> diff = new TreeMap<>();
    for (Map.Entry<Double, Double> e : cumulative.entrySet()) {
      diff.put(e.getKey(), e.getValue() - earlier.cumulative.getOrDefault(e.getKey(), 0.0));
    }
    return new ScrapedHistogram(diff);
  }

  long count() {
    return cumulative.isEmpty() ? 0 : Math.round(cumulative.lastEntry().getValue());
  }

  /** Share of samples at or under {@code seconds}, which must be a bucket edge; NaN without samples. */
  double shareAtOrUnder(double seconds) {
    Double at = cumulative.get(seconds);
    return count() == 0 || at == null ? Double.NaN : at / count();
  }

  /**
   * The q-quantile in milliseconds, interpolated linearly inside its bucket (as Prometheus's
   * histogram_quantile does); infinity when it falls in the +Inf bucket, NaN without samples.
   */
  double millis(double q) {
    long n = count();
    if (n == 0) {
      return Double.NaN;
    }
    double rank = q * n;
    double lowerEdge = 0;
    double lowerCount = 0;
    for (Map.Entry<Double, Double> e : cumulative.entrySet()) {
      if (e.getValue() >= rank) {
        if (e.getKey().isInfinite()) {
          return Double.POSITIVE_INFINITY;
        }
        double inBucket = e.getValue() - lowerCount;
        double fraction = inBucket <= 0 ? 1 : (rank - lowerCount) / inBucket;
        return 1000 * (lowerEdge + (e.getKey() - lowerEdge) * fraction);
      }
      lowerEdge = e.getKey();
      lowerCount = e.getValue();
    }
    return Double.POSITIVE_INFINITY;
  }
}
