package ai.deepchat.platform.engine;

import java.time.Instant;

/**
 * When an engine worker admitted a generation (received its request) and when it emitted one of its
 * events: wall clock, epoch microseconds. The pipeline carries it to the gateway, which subtracts it
 * from its own clock to measure the latency the platform adds on top of the engine. Wall clocks are
 * comparable on one host (or on NTP-synced hosts, within their skew), never across unsynced ones.
 */
public record EngineStamp(long admittedAtMicros, long emittedAtMicros) {

  /** The wall clock in epoch microseconds (the JDK reads it at microsecond resolution on Linux). */
  public static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  /** The engine's own share of this event's time: from admission to emission. */
  public long engineMicros() {
    return emittedAtMicros - admittedAtMicros;
  }
}
