package ai.deepchat.canary.guard;

import ai.deepchat.canary.metrics.VersionMetrics;
import ai.deepchat.canary.registry.Actor;
import ai.deepchat.canary.registry.CanaryException;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.canary.rollout.GuardSettings;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutService;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the dispatcher reports how each generation went. Every outcome feeds the version's Prometheus
 * series and this node's recent window (for the summary API); a candidate's outcome also feeds its
 * rollout's guard window, and when the guard's bound is exceeded over a window holding the minimum
 * sample the rollout is rolled back automatically, with the measurements in the audit log.
 *
 * <p>Each node guards with the outcomes it saw itself; with traffic spread over n nodes each sees about
 * 1/n of it, so the minimum sample is reached later but the rates are the same.
 */
public final class CanaryOutcomes {

  private static final Logger LOG = LoggerFactory.getLogger(CanaryOutcomes.class);
  private static final long RETAIN_MILLIS = 86_400_000L;
  private static final int CAPACITY = 20_000;

  private final Database database;
  private final RolloutService rollouts;
  private final Clock clock;
  private final long summaryWindowMillis;
  private final Map<UUID, OutcomeWindow> byVersion = new ConcurrentHashMap<>();
  private final Map<UUID, OutcomeWindow> byRollout = new ConcurrentHashMap<>();
  private final Set<UUID> triggered = ConcurrentHashMap.newKeySet();

  /** {@code database}: where a tenant rollout's outcomes are kept for its comparison (null: nowhere). */
  public CanaryOutcomes(Database database, RolloutService rollouts, Clock clock, long summaryWindowMillis) {
    this.database = database;
    this.rollouts = rollouts;
    this.clock = clock;
    this.summaryWindowMillis = summaryWindowMillis;
  }

  /**
   * Records one generation by the assignment's version. Returns the automatic rollback when this
   * outcome triggered one (for tests and logs), else a succeeded future with null.
   */
  public Future<Rollout> record(Assignment a, Outcome o) {
    ModelVersion v = a.version();
    String tenant = VersionMetrics.tenantLabel(v);
    VersionMetrics.request(tenant, VersionMetrics.versionLabel(v), a.role().name().toLowerCase(Locale.ROOT), o);
    long now = clock.millis();
    byVersion.computeIfAbsent(v.id(), id -> new OutcomeWindow(RETAIN_MILLIS, CAPACITY)).add(now, o);
    Rollout rollout = a.rollout();
    if (rollout != null && rollout.active() && !rollout.scope().platform() && database != null) {
      store(rollout, a, o);
    }
    if (!a.candidate() || rollout == null || !rollout.active()) {
      return Future.succeededFuture();
    }
    GuardSettings guard = rollouts.guardsOf(rollout);
    OutcomeWindow window = byRollout.computeIfAbsent(rollout.id(),
        id -> new OutcomeWindow(guard.windowSeconds() * 1000L, CAPACITY));
    window.add(now, o);
    if (!guard.enabled() || triggered.contains(rollout.id())) {
      return Future.succeededFuture();
    }
    OutcomeWindow.Stats stats = window.stats(now, guard.windowSeconds() * 1000L);
    if (stats.requests() < guard.minSamples()) {
      return Future.succeededFuture();
    }
    String reason = null;
    if (stats.errorRate() > guard.maxErrorRate()) {
      reason = String.format(Locale.ROOT, "candidate %s error rate %.1f%% over the last %d s (%d of %d requests)"
              + " exceeds the bound %.1f%%", v.name(), stats.errorRate() * 100, guard.windowSeconds(), stats.errors(),
          stats.requests(), guard.maxErrorRate() * 100);
    } else if (stats.p95TtftMillis() > guard.maxP95TtftMillis()) {
      reason = String.format(Locale.ROOT, "candidate %s p95 time to first token %d ms over the last %d s (%d requests)"
          + " exceeds the bound %d ms", v.name(), stats.p95TtftMillis(), guard.windowSeconds(), stats.requests(),
          guard.maxP95TtftMillis());
    }
    if (reason == null || !triggered.add(rollout.id())) {
      return Future.succeededFuture();
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("version", v.id().toString());
    details.put("requests", stats.requests());
    details.put("errors", stats.errors());
    details.put("errorRate", stats.errorRate());
    details.put("p95TtftMs", stats.p95TtftMillis());
    details.put("guards", guard.toJson().getMap());
    String why = reason;
    LOG.warn("rolling back rollout {} of {}: {}", rollout.id(), rollout.scope().label(), why);
    return rollouts.rollback(rollout.scope(), rollout.id(), Actor.GUARD, why, details)
        .onSuccess(r -> VersionMetrics.rollback(tenant, true))
        .recover(err -> {
          if (err instanceof CanaryException ce && ce.failure() == BusFailure.CONFLICT) {
            // already ended (by a person, or by the guard of another node)
            return Future.succeededFuture((Rollout) null);
          }
          triggered.remove(rollout.id());
          LOG.error("automatic rollback of {} failed; will retry on the next outcome", rollout.id(), err);
          return Future.failedFuture(err);
        });
  }

  /**
   * Keeps the outcome for the rollout's comparison, cluster-wide (rollout_outcomes); the caller's turn
   * never waits for it, and a lost row only thins the comparison.
   */
  private void store(Rollout rollout, Assignment a, Outcome o) {
    UUID tenant = rollout.scope().tenantId();
    database.inTenant(tenant, c -> c.preparedQuery("INSERT INTO rollout_outcomes (tenant_id, rollout_id, version_id,"
            + " role, ok, error_code, first_token_ms, total_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .execute(Tuple.tuple().addUUID(tenant).addUUID(rollout.id()).addUUID(a.version().id())
            .addString(a.candidate() ? "candidate" : "stable").addBoolean(o.ok()).addString(o.errorCode())
            .addValue(o.ttftMillis() < 0 ? null : (int) Math.min(Integer.MAX_VALUE, o.ttftMillis()))
            .addInteger((int) Math.min(Integer.MAX_VALUE, Math.max(0, o.generationMillis())))))
        .onFailure(err -> LOG.warn("outcome of rollout {} not stored: {}", rollout.id(), err.toString()));
  }

  /** A thumbs up (1) or down (-1) on an answer of this version. */
  public void feedback(ModelVersion v, int value) {
    VersionMetrics.feedback(VersionMetrics.tenantLabel(v), VersionMetrics.versionLabel(v), value);
  }

  /** This node's recent numbers for a version (the summary window), all zero when it saw none. */
  public OutcomeWindow.Stats recent(UUID versionId) {
    OutcomeWindow w = byVersion.get(versionId);
    return w == null ? new OutcomeWindow.Stats(0, 0, -1, -1, -1) : w.stats(clock.millis(), summaryWindowMillis);
  }

  /** This node's guard window of a rollout, over the rollout's guard window. */
  public OutcomeWindow.Stats guardWindow(Rollout r) {
    OutcomeWindow w = byRollout.get(r.id());
    return w == null ? new OutcomeWindow.Stats(0, 0, -1, -1, -1)
        : w.stats(clock.millis(), rollouts.guardsOf(r).windowSeconds() * 1000L);
  }
}
