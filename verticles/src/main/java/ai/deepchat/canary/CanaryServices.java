package ai.deepchat.canary;

import ai.deepchat.canary.api.CanaryApiModule;
import ai.deepchat.canary.guard.CanaryOutcomes;
import ai.deepchat.canary.guard.LiveWorkers;
import ai.deepchat.canary.metrics.CanarySummary;
import ai.deepchat.canary.metrics.RolloutComparison;
import ai.deepchat.canary.metrics.ShadowRecorder;
import ai.deepchat.canary.registry.ChangeLog;
import ai.deepchat.canary.registry.ModelRegistry;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.GuardSettings;
import ai.deepchat.canary.rollout.ModelChooser;
import ai.deepchat.canary.rollout.RolloutService;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.canary.CanaryMessages.RoutingChanged;
import ai.deepchat.platform.canary.ModelAdmin;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;

import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

/**
 * The model registry and rollouts of one node: create once per node (after {@code Codecs.registerAll})
 * and share. The chooser's routing snapshots reload on every {@link Addresses#CANARY_CHANGED} event from
 * any node and every CANARY_REFRESH_SECONDS; {@link LiveWorkers} follows the workers' announcements.
 */
public final class CanaryServices {

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final RolloutService rollouts;
  private final LiveWorkers liveWorkers;
  private final ModelChooser chooser;
  private final CanaryOutcomes outcomes;
  private final ShadowRecorder shadow;
  private final CanarySummary summary;
  private final RolloutComparison comparison;
  private MessageConsumer<RoutingChanged> changes;
  private long refreshTimer = -1;

  private CanaryServices(Vertx vertx, Platform platform, AuditLog audit, Embedder embedder, Clock clock) {
    this.vertx = vertx;
    PlatformConfig.Canary config = platform.config().canary();
    ChangeLog log = new ChangeLog(vertx, audit);
    GuardSettings defaults = GuardSettings.defaults(config);
    this.registry = new ModelRegistry(platform.database(), log, OutboundPolicy.of(platform.config()));
    this.rollouts = new RolloutService(platform.database(), log, defaults);
    this.liveWorkers = new LiveWorkers(vertx, Duration.ofSeconds(config.workerTtlSeconds()));
    this.chooser = new ModelChooser(platform.database(), liveWorkers);
    this.outcomes = new CanaryOutcomes(platform.database(), rollouts, clock, config.guardWindowSeconds() * 1000L);
    this.shadow = new ShadowRecorder(vertx, platform.database(), embedder, config.shadowAgreementThreshold());
    this.summary = new CanarySummary(platform.database(), chooser, outcomes, rollouts);
    this.comparison = new RolloutComparison(platform.database(), rollouts, chooser, outcomes,
        config.shadowAgreementThreshold());
  }

  /**
   * Creates and starts the services of this node; {@code audit} is {@code PolicyServices.audit()},
   * {@code embedder} compares shadow answers (the launcher passes bge-small-zh).
   */
  public static Future<CanaryServices> create(Vertx vertx, Platform platform, AuditLog audit, Embedder embedder,
                                              Clock clock) {
    CanaryServices s = new CanaryServices(vertx, platform, audit, embedder, clock);
    s.changes = vertx.eventBus().consumer(Addresses.CANARY_CHANGED, msg -> {
      String tenant = msg.body().tenantId();
      try {
        s.chooser.refresh(tenant == null ? Scope.PLATFORM : Scope.tenant(UUID.fromString(tenant)));
      } catch (IllegalArgumentException ignored) {
        // names no tenant: nothing cached under it
      }
    });
    s.refreshTimer = vertx.setPeriodic(platform.config().canary().refreshSeconds() * 1000L, id -> s.chooser.refreshAll());
    return s.changes.completion().compose(x -> s.liveWorkers.start()).map(s);
  }

  public ModelRegistry registry() {
    return registry;
  }

  public RolloutService rollouts() {
    return rollouts;
  }

  /** The tenant-scoped changes the console makes, behind platform-core's contract. */
  public ModelAdmin admin() {
    return new TenantModelAdmin(registry, rollouts, liveWorkers, comparison);
  }

  public ModelChooser chooser() {
    return chooser;
  }

  public CanaryOutcomes outcomes() {
    return outcomes;
  }

  public ShadowRecorder shadow() {
    return shadow;
  }

  public LiveWorkers liveWorkers() {
    return liveWorkers;
  }

  public CanarySummary summary() {
    return summary;
  }

  public RolloutComparison comparison() {
    return comparison;
  }

  /** The gateway's routes: /v1/admin/model-versions and /v1/admin/rollouts (tenant API keys), within the callers' request limits. */
  public HttpModule httpModule(Platform platform, RequestLimits limits) {
    return new CanaryApiModule(platform.database(), this, limits);
  }

  public Future<Void> close() {
    vertx.cancelTimer(refreshTimer);
    return changes.unregister().compose(x -> liveWorkers.close());
  }
}
