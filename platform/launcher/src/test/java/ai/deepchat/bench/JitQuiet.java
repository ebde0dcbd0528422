package ai.deepchat.bench;

import java.util.Map;

/**
 * When the bench's JIT warm-up may end (#25): the node's JIT threads still compiled for 0.3-1 ms per turn
 * 60-80 s into a run on two busy cores (the thirteenth session counted ~800 compilations in 15 s of the
 * measured window, most of them C1's tier-2 to tier-3 switches and first C2 compilations of methods that
 * had waited in the queue: a backlog that drains, not a recompilation loop). A fixed warm-up measures some
 * of that backlog as the platform's cost, more the busier the machine. So the warm-up goes on in rounds
 * until the JIT's share of the platform's CPU in a round falls to {@code quietShare}, or {@code maxMs}.
 */
record JitQuiet(double quietShare, long maxMs) {

  /** The JIT threads' share of the platform's CPU (node JVM without the engine, and PostgreSQL) in a round. */
  static double jitShare(Map<String, Double> cores) {
    double platform = cores.entrySet().stream()
        .filter(e -> !e.getKey().equals("engine") && !e.getKey().equals("load generator"))
        .mapToDouble(Map.Entry::getValue).sum();
    return platform <= 0 ? 0 : cores.getOrDefault("jit", 0.0) / platform;
  }

  /** Whether the warm-up goes on after {@code elapsedMs}, its last round's cores by role as given. */
  boolean goOn(long elapsedMs, Map<String, Double> lastRound) {
    return elapsedMs < maxMs && jitShare(lastRound) > quietShare;
  }
}
