package ai.deepchat.canary;

import ai.deepchat.canary.guard.LiveWorkers;
import ai.deepchat.canary.metrics.RolloutComparison;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.CanaryException;
import ai.deepchat.canary.registry.ModelRegistry;
import ai.deepchat.canary.registry.ModelRegistry.VersionSpec;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.canary.ModelAdmin;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@link ModelAdmin} over the registry and rollout service, scoped to one tenant per call; their
 * refusals become {@link BusFailure.Failed} with the same failure, so callers need no canary type.
 */
final class TenantModelAdmin implements ModelAdmin {

  private final ModelRegistry registry;
  private final RolloutService rollouts;
  private final LiveWorkers live;
  private final RolloutComparison comparison;

  TenantModelAdmin(ModelRegistry registry, RolloutService rollouts, LiveWorkers live, RolloutComparison comparison) {
    this.registry = registry;
    this.rollouts = rollouts;
    this.live = live;
    this.comparison = comparison;
  }

  @Override
  public Future<Void> create(UUID tenantId, NewVersion v, Actor actor) {
    VersionSpec spec = new VersionSpec(v.name(), Backend.parse(v.backend()), v.location(), v.params(),
        v.systemPromptTemplate());
    try {
      registry.requireServed(spec, true, live);
    } catch (CanaryException e) {
      return refused(Future.failedFuture(e));
    }
    return refused(registry.create(Scope.tenant(tenantId), spec, of(actor)));
  }

  @Override
  public List<LiveWorker> liveWorkers() {
    return live.workers().stream().map(a -> new LiveWorker(a.workerId(), a.nodeId(), a.device(),
        a.modelKeys() == null ? List.of() : List.copyOf(a.modelKeys()), a.activeSequences(), a.queued())).toList();
  }

  @Override
  public boolean live(String backend, String location) {
    return !Backend.LOCAL.sql().equals(backend) || live.serves(location);
  }

  @Override
  public Future<JsonObject> comparison(UUID tenantId, UUID rolloutId) {
    return refusedAs(comparison.of(tenantId, rolloutId));
  }

  @Override
  public Future<Void> activate(UUID tenantId, UUID versionId, Actor actor, String reason) {
    return refused(registry.activate(Scope.tenant(tenantId), versionId, of(actor), reason));
  }

  @Override
  public Future<Void> retire(UUID tenantId, UUID versionId, Actor actor) {
    return refused(registry.retire(Scope.tenant(tenantId), versionId, of(actor)));
  }

  @Override
  public Future<Void> startCanary(UUID tenantId, UUID candidateId, int basisPoints, Actor actor) {
    StartRequest req = new StartRequest(RolloutMode.CANARY, candidateId, basisPoints, List.of(), new JsonObject());
    return refused(rollouts.start(Scope.tenant(tenantId), req, of(actor)));
  }

  @Override
  public Future<Void> setPercentage(UUID tenantId, UUID rolloutId, int basisPoints, Actor actor) {
    return refused(rollouts.setPercentage(Scope.tenant(tenantId), rolloutId, basisPoints, of(actor)));
  }

  @Override
  public Future<Void> promote(UUID tenantId, UUID rolloutId, Actor actor, String reason) {
    return refused(rollouts.promote(Scope.tenant(tenantId), rolloutId, null, of(actor), reason));
  }

  @Override
  public Future<Void> rollback(UUID tenantId, UUID rolloutId, Actor actor, String reason) {
    return refused(rollouts.rollback(Scope.tenant(tenantId), rolloutId, of(actor), reason, Map.of()));
  }

  /** The registry's actor (this class inherits {@link ModelAdmin.Actor} as {@code Actor}). */
  private static ai.deepchat.canary.registry.Actor of(Actor actor) {
    return new ai.deepchat.canary.registry.Actor(actor.name(), actor.ip());
  }

  /** A refusal naming a field becomes {@link InvalidField}, any other {@link BusFailure.Failed}. */
  private static Future<Void> refused(Future<?> change) {
    return refusedAs(change.mapEmpty());
  }

  private static <T> Future<T> refusedAs(Future<T> f) {
    return f.recover(err -> Future.failedFuture(!(err instanceof CanaryException ce) ? err
        : ce.param() != null && ce.failure() == BusFailure.INVALID_REQUEST ? new InvalidField(ce.param(), ce.getMessage())
        : new BusFailure.Failed(ce.failure(), ce.getMessage())));
  }
}
