package ai.deepchat.failover;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Bounded waits and phase marks for the multi-process failure tests. */
final class Waits {

  private Waits() {
  }

  /** Polls {@code condition} every 200 ms; fails naming {@code what} after {@code seconds}. */
  static void awaitTrue(String what, int seconds, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.call()) {
      assertThat(System.nanoTime()).as(what + " within " + seconds + " s").isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /** A phase mark with the time of day, to read beside the nodes' logs. */
  static void phase(String what) {
    System.out.println(java.time.LocalTime.now() + " " + what);
  }
}
