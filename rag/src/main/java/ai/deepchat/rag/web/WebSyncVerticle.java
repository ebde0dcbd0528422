package ai.deepchat.rag.web;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The one timer of scheduled web-source syncs: every {@code period} it starts the syncs that are due
 * ({@link WebSources#syncDue}). Every rag node may run it; the lease on each source's row lets only one
 * node sync a given source at a time.
 */
public final class WebSyncVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(WebSyncVerticle.class);

  private final WebSources sources;
  private final Duration period;
  private long timer = -1;
  private boolean checking;

  public WebSyncVerticle(WebSources sources, Duration period) {
    this.sources = sources;
    this.period = period;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(period.toMillis(), id -> check());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void check() {
    if (checking) {
      return;
    }
    checking = true;
    sources.syncDue()
        .onSuccess(n -> {
          if (n > 0) {
            LOG.info("web sources: started {} scheduled sync(s)", n);
          }
        })
        .onFailure(failure -> LOG.warn("web sources: scheduled syncs not started: {}", failure.getMessage()))
        .onComplete(ended -> checking = false);
  }
}
