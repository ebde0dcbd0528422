package ai.deepchat.policy.privacy;

import ai.deepchat.platform.db.Database;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Runs {@link RetentionJob} periodically (RETENTION_INTERVAL_MINUTES). A run that is still going
 * when the next is due is not doubled. Several nodes may run it: the job is idempotent and skips a
 * tenant another node is purging.
 */
public final class RetentionVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RetentionVerticle.class);

  private final RetentionJob job;
  private final Duration interval;
  private final Duration firstRun;
  private long timer = -1;
  private boolean running;

  /** {@code outcomeDays}: ROLLOUT_OUTCOME_RETENTION_DAYS, the longest rollout outcomes are kept. */
  public RetentionVerticle(Database database, Duration interval, Duration firstRun, int outcomeDays) {
    this.job = new RetentionJob(database, new AuditLog(database), outcomeDays);
    this.interval = interval;
    this.firstRun = firstRun;
  }

  @Override
  public Future<?> start() {
    vertx.setTimer(Math.max(1, firstRun.toMillis()), id -> {
      runOnce();
      timer = vertx.setPeriodic(interval.toMillis(), t -> runOnce());
    });
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.succeededFuture();
  }

  private void runOnce() {
    if (running) {
      return;
    }
    running = true;
    job.runOnce()
        .onSuccess(n -> {
          if (n > 0) {
            LOG.info("retention: deleted {} expired conversation(s)", n);
          }
        })
        .onFailure(err -> LOG.warn("retention run failed: {}", err.getMessage()))
        .onComplete(ar -> running = false);
  }
}
