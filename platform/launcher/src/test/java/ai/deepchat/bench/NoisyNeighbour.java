package ai.deepchat.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * RELIABILITY scenario 4, noisy neighbour: tenant B calls the API at a steady rate within its quota
 * while tenant A, in every other phase, calls at {@code multiplier} times its quota. Phases alternate
 * (B alone, B with A, B alone, ...) so that drift of the machine (JIT, other processes, GC) falls on
 * both sides alike. Both call {@code GET /v1/models} (authentication, rate limits, a database read):
 * the platform's own cost per request, with no model in the way.
 *
 * <p>Passes when B sees no 429 and no error, every answer to A is 200 or 429 with Retry-After, A is
 * admitted no more than its quota allows, and B's p99 with A is within {@code allowedIncrease} of its
 * p99 alone plus a noise allowance (0 for the strict criterion): at least {@code noiseMillis}, and with
 * {@code measuredNoise} the spread the machine shows without A, between B's p99 in the even and the odd
 * alone phases (on a busy shared machine the p99 of millisecond requests moves by more than 10% between
 * two identical phases, which no neighbour caused).
 */
public final class NoisyNeighbour {

  /** What to run: A's quota per minute (its API key's limit), B's rate per second, phase lengths. */
  public record Settings(int port, String keyA, int quotaPerMinuteA, int multiplier, String keyB, double rateB,
                         double phaseSeconds, int phasePairs, double allowedIncrease, double noiseMillis,
                         boolean measuredNoise) {
  }

  /** What happened; {@link #passed} applies the criterion. */
  public record Result(Settings settings, Histogram alone, Histogram noisy, double aloneSpreadMillis, int b429,
                       int bErrors, int aAdmitted, int a429, int a429WithoutRetryAfter, int aOther, double aAllowed) {

    public double noiseAllowanceMillis() {
      return Math.max(settings.noiseMillis(), settings.measuredNoise() ? aloneSpreadMillis : 0);
    }

    public double boundMillis() {
      return alone.millis(0.99) * (1 + settings.allowedIncrease()) + noiseAllowanceMillis();
    }

    public boolean passed() {
      return b429 == 0 && bErrors == 0 && aOther == 0 && a429WithoutRetryAfter == 0 && a429 > 0
          && aAdmitted <= aAllowed && noisy.millis(0.99) <= boundMillis();
    }

    public String report() {
      return String.format("noisy neighbour: A at %dx its quota of %d/min, B at %.0f/s, %d x (%.1f s alone + %.1f s"
              + " with A)%n  B alone:  %s%n  B with A: %s%n  B 429s: %d, B errors: %d%n"
              + "  A admitted: %d (quota allows %.0f), A refused 429: %d (%d without Retry-After), other: %d%n"
              + "  B p99 spread between alone phases: %.1f ms%n"
              + "  B p99 with A %.1f ms, bound %.1f ms (alone p99 x %.2f + %.1f ms noise allowance): %s",
          settings.multiplier(), settings.quotaPerMinuteA(), settings.rateB(), settings.phasePairs(),
          settings.phaseSeconds(), settings.phaseSeconds(), alone.summary(), noisy.summary(), b429, bErrors,
          aAdmitted, aAllowed, a429, a429WithoutRetryAfter, aOther, aloneSpreadMillis, noisy.millis(0.99),
          boundMillis(), 1 + settings.allowedIncrease(), noiseAllowanceMillis(), passed() ? "PASS" : "FAIL");
    }
  }

  private final Vertx vertx;
  private final Settings s;
  private final Histogram alone = new Histogram();
  private final Histogram noisy = new Histogram();
  private final Histogram[] aloneHalves = {new Histogram(), new Histogram()};
  private final AtomicInteger b429 = new AtomicInteger();
  private final AtomicInteger bErrors = new AtomicInteger();
  private final AtomicInteger aAdmitted = new AtomicInteger();
  private final AtomicInteger a429 = new AtomicInteger();
  private final AtomicInteger a429Bare = new AtomicInteger();
  private final AtomicInteger aOther = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean measuring;
  private volatile boolean neighbourOn;
  private volatile int phase;

  private NoisyNeighbour(Vertx vertx, Settings settings) {
    this.vertx = vertx;
    this.s = settings;
  }

  /** Runs the scenario (blocking: call from a test or main thread, never an event loop). */
  public static Result run(Vertx vertx, Settings settings) throws InterruptedException {
    return new NoisyNeighbour(vertx, settings).run();
  }

  private Result run() throws InterruptedException {
    HttpClient clientA = client(256);
    HttpClient clientB = client(64);
    try {
      // A's bucket starts with a minute's burst: spend it first, so the phases meet A's refill rate; then
      // one call at a time until one is refused, so the bucket is empty however long the burst took
      for (int i = 0; i < s.quotaPerMinuteA(); i++) {
        call(clientA, s.keyA());
      }
      awaitIdle();
      int refused;
      do {
        refused = a429.get();
        call(clientA, s.keyA());
        awaitIdle();
      } while (a429.get() == refused);
      long refillFrom = System.nanoTime();
      aAdmitted.set(0);
      a429.set(0);
      long pacerB = pace(s.rateB(), () -> call(clientB, s.keyB()));
      Thread.sleep(1000); // warm-up, unmeasured
      measuring = true;
      double rateA = s.quotaPerMinuteA() * s.multiplier() / 60.0;
      for (int p = 0; p < s.phasePairs(); p++) {
        phase = p;
        neighbourOn = false;
        sleepSeconds(s.phaseSeconds());
        neighbourOn = true;
        long pacerA = pace(rateA, () -> call(clientA, s.keyA()));
        sleepSeconds(s.phaseSeconds());
        vertx.cancelTimer(pacerA);
      }
      vertx.cancelTimer(pacerB);
      awaitIdle();
      // A's bucket refills from the end of the drain: that much, plus rounding, may be admitted
      double allowed = s.quotaPerMinuteA() / 60.0 * (System.nanoTime() - refillFrom) / 1e9 + 2;
      double spread = Math.abs(aloneHalves[0].millis(0.99) - aloneHalves[1].millis(0.99));
      return new Result(s, alone, noisy, spread, b429.get(), bErrors.get(), aAdmitted.get(), a429.get(), a429Bare.get(),
          aOther.get(), allowed);
    } finally {
      clientA.close();
      clientB.close();
    }
  }

  private HttpClient client(int connections) {
    return vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(s.port()),
        new PoolOptions().setHttp1MaxSize(connections));
  }

  /** Calls {@code task} at {@code perSecond} on average, from a 10 ms timer. */
  private long pace(double perSecond, Runnable task) {
    long t0 = System.nanoTime();
    long[] sent = {0};
    return vertx.setPeriodic(10, id -> {
      long due = (long) ((System.nanoTime() - t0) / 1e9 * perSecond);
      for (; sent[0] < due; sent[0]++) {
        task.run();
      }
    });
  }

  /** One call; A's answers are counted, B's timed (when measuring, on the side of the current phase). */
  private void call(HttpClient client, String key) {
    boolean isA = key.equals(s.keyA());
    boolean measured = measuring;
    boolean withNeighbour = neighbourOn;
    int half = phase % 2;
    long t0 = System.nanoTime();
    inFlight.incrementAndGet();
    client.request(new RequestOptions().setMethod(HttpMethod.GET).setURI("/v1/models")
            .putHeader("Authorization", "Bearer " + key))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> resp)))
        .onComplete(ar -> {
          inFlight.decrementAndGet();
          long nanos = System.nanoTime() - t0;
          int status = ar.succeeded() ? ar.result().statusCode() : -1;
          if (isA) {
            if (status == 200) {
              aAdmitted.incrementAndGet();
            } else if (status == 429) {
              a429.incrementAndGet();
              if (ar.result().getHeader("Retry-After") == null) {
                a429Bare.incrementAndGet();
              }
            } else {
              aOther.incrementAndGet();
            }
          } else if (measured) {
            if (status == 429) {
              b429.incrementAndGet();
            } else if (status != 200) {
              bErrors.incrementAndGet();
            }
            if (withNeighbour) {
              noisy.record(nanos);
            } else {
              alone.record(nanos);
              aloneHalves[half].record(nanos);
            }
          }
        });
  }

  private void awaitIdle() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  private static void sleepSeconds(double seconds) throws InterruptedException {
    Thread.sleep((long) (seconds * 1000));
  }
}
