package ai.deepchat.failover;

/** Phase marks for the multi-process failure tests (their bounded waits are {@code Await.until}). */
final class Waits {

  private Waits() {
  }

  /** A phase mark with the time of day, to read beside the nodes' logs. */
  static void phase(String what) {
    System.out.println(java.time.LocalTime.now() + " " + what);
  }
}
