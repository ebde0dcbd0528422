package ai.deepchat.bench;

/** One ramp step's figures: the clients' view, the platform's added-latency histograms, the engine alone. */
record StepReport(int users, int apiUsers, double seconds, StepStats stats, double loadBefore, double loadAfter,
                  ScrapedHistogram added, ScrapedHistogram addedTtft, java.util.Map<String, Double> cores,
                  double machineCores, long residentBytes, EnginePeer.Result peer) {

  static final String HEADER = "| users | open streams (mean) | delivered tok/s | engine alone tok/s | TTFT p50 / p99"
      + " (ms) | added TTFT p50 / p99 (ms) | ITL p50 / p99 (ms) | added per token p50 / p99 (ms) | <= 10 ms | <= 50 ms"
      + " | errors | load avg |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

  static final String FAQ_HEADER = "| connections | turns/s | turn p50 / p99 (ms) | streamed: first chunk p50 / p99 (ms)"
      + " | platform CPU per turn (us) | errors | load avg |\n| --- | --- | --- | --- | --- | --- | --- |";

  double turnsPerSecond() {
    return stats.answers.sum() / seconds;
  }

  /** A row of the FAQ mode: whole turns, as the API clients saw them. */
  String faqMarkdown() {
    return String.format("| %d | %.0f | %s | %s | %.0f | %d (%.1f%%) | %.1f-%.1f |", users, turnsPerSecond(),
        pair(stats.turns.millis(0.5), stats.turns.millis(0.99)), pair(stats.ttft.millis(0.5), stats.ttft.millis(0.99)),
        1e6 * platformCores() * seconds / Math.max(1, stats.answers.sum()), stats.errorCount(), 100 * errorShare(),
        loadBefore, loadAfter);
  }

  StepReport withPeer(EnginePeer.Result result) {
    return new StepReport(users, apiUsers, seconds, stats, loadBefore, loadAfter, added, addedTtft, cores,
        machineCores, residentBytes, result);
  }

  /** Cores the platform used in the window: the node's JVM without the engine, and PostgreSQL. */
  double platformCores() {
    return cores.entrySet().stream()
        .filter(e -> !e.getKey().equals("engine") && !e.getKey().equals("load generator"))
        .mapToDouble(java.util.Map.Entry::getValue).sum();
  }

  /**
   * Platform CPU per unit (a turn: an answer delivered; a token: a completion token delivered) by role, in
   * microseconds, with the platform's total first: the figures issue #25 sets targets for.
   */
  String costPer(long units) {
    double n = Math.max(1, units);
    StringBuilder s = new StringBuilder(String.format("platform %.0f us (", 1e6 * platformCores() * seconds / n));
    cores.forEach((role, c) -> {
      if (!role.equals("engine") && !role.equals("load generator")) {
        s.append(String.format("%s %.0f, ", role, 1e6 * c * seconds / n));
      }
    });
    s.setLength(s.length() - 2);
    return s.append(')').toString();
  }

  double errorShare() {
    long errors = stats.errorCount();
    return (double) errors / Math.max(1, errors + stats.answers.sum());
  }

  /** Errors under 1% (RELIABILITY.md scenario 1) and answers actually delivered. */
  boolean healthy() {
    return stats.answers.sum() > 0 && errorShare() < 0.01;
  }

  String markdown() {
    return String.format("| %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %d (%.1f%%) | %.1f-%.1f |", users,
        stats.meanOpen(), stats.tokens.sum() / seconds,
        peer == null ? "-" : String.format("%.0f", peer.tokensPerSecond()),
        pair(stats.ttft.millis(0.5), stats.ttft.millis(0.99)), pair(addedTtft.millis(0.5), addedTtft.millis(0.99)),
        pair(stats.gaps.millis(0.5), stats.gaps.millis(0.99)), pair(added.millis(0.5), added.millis(0.99)),
        percent(added.shareAtOrUnder(0.01)), percent(added.shareAtOrUnder(0.05)), stats.errorCount(),
        100 * errorShare(), loadBefore, loadAfter);
  }

  private static String pair(double p50, double p99) {
    return format(p50) + " / " + format(p99);
  }

  private static String format(double ms) {
    if (Double.isNaN(ms)) {
      return "-";
    }
    if (Double.isInfinite(ms)) {
      return "> 10000";
    }
    return ms < 10 ? String.format("%.2f", ms) : String.format("%.0f", ms);
  }

  private static String percent(double share) {
    return Double.isNaN(share) ? "-" : String.format("%.1f%%", 100 * share);
  }
}
