package ai.deepchat.platform.testing;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounded blocking waits for test threads (never event loops): a future's outcome, or a condition that
 * becomes true. Shared by every module's tests through the platform-core test jar, so a timeout means the
 * same everywhere.
 */
public final class Await {

  /** Long enough for a loaded 2-core CI machine; a healthy test never waits this long. */
  public static final Duration TIMEOUT = Duration.ofSeconds(60);
  /** How often {@link #until} asks again: short against the timeouts, long enough not to spin. */
  private static final long POLL_MILLIS = 20;

  private Await() {
  }

  /** {@link #await(Future, Duration)} with {@link #TIMEOUT}. */
  public static <T> T await(Future<T> future) throws Exception {
    return await(future, TIMEOUT);
  }

  /**
   * The future's result. Throws like {@link java.util.concurrent.CompletableFuture#get}: an
   * {@link ExecutionException} carrying the failure, or a {@link TimeoutException} naming the timeout.
   */
  public static <T> T await(Future<T> future, Duration timeout) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new TimeoutException("not completed within " + timeout);
    }
  }

  /** The failure of a future that must fail within {@link #TIMEOUT}; an {@link AssertionError} if it succeeds. */
  public static Throwable failure(Future<?> future) throws Exception {
    try {
      await(future);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  /**
   * Asks {@code condition} until it holds; an {@link AssertionError} naming {@code what} once
   * {@code timeout} has passed. The condition wait that replaces a sleep of a guessed length.
   */
  public static void until(String what, Duration timeout, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.call()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(what + " within " + timeout);
      }
      Thread.sleep(POLL_MILLIS);
    }
  }
}
