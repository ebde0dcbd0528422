package ai.deepchat.canary.rollout;

import ai.deepchat.canary.guard.LiveWorkers;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.platform.concurrent.CallerContext;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Chooses the model version of a conversation from an in-memory snapshot of the scope's routing,
 * reloaded from PostgreSQL whenever any node announces a change (and periodically, as a safety net).
 *
 * <p>A tenant with a stable version or a rollout of its own uses its own routing; any other tenant the
 * platform-wide one. Within a rollout the conversation's bucket ({@link Buckets}) decides, so every node
 * and every restart agrees. A version with no live worker (local backend, nothing announced) is never
 * chosen: its share falls back to the stable version. Thread-safe; the snapshot map is shared by every
 * event loop of the node, and callers get their snapshot on their own context.
 */
public final class ModelChooser {

  private static final Logger LOG = LoggerFactory.getLogger(ModelChooser.class);

  private final Database database;
  private final LiveWorkers live;
  private final Map<Scope, Future<Routing>> snapshots = new ConcurrentHashMap<>();

  public ModelChooser(Database database, LiveWorkers live) {
    this.database = database;
    this.live = live;
  }

  /** {@link #choose(UUID, UUID, UUID)} without a pinned version. */
  public Future<Optional<Assignment>> choose(UUID tenantId, UUID conversationId) {
    return choose(tenantId, conversationId, null);
  }

  /**
   * The version for this turn; empty when neither the tenant nor the platform has a stable version
   * (the caller then uses its built-in default). {@code conversationId} null (a one-off request) draws
   * a fresh bucket. {@code pinnedVersionId}, the version that answered this conversation's previous
   * turns (conversations.model_version_id), is kept while it is still the serving stable version or a
   * version the active rollout sends traffic to, so raising a percentage never moves a conversation
   * midway; a rollback or promotion still moves it.
   */
  public Future<Optional<Assignment>> choose(UUID tenantId, UUID conversationId, UUID pinnedVersionId) {
    return routingFor(tenantId).map(r -> choose(r, conversationId, pinnedVersionId));
  }

  /** The snapshot a tenant routes by: its own when it configured anything, else the platform's. */
  public Future<Routing> routingFor(UUID tenantId) {
    return routing(Scope.tenant(tenantId)).compose(own -> own.empty()
        ? routing(Scope.PLATFORM) : Future.succeededFuture(own));
  }

  /** {@link #choose(UUID, UUID, UUID)} from a snapshot taken before ({@link #routingFor}). */
  public Optional<Assignment> choose(Routing routing, UUID conversationId, UUID pinnedVersionId) {
    UUID conversation = conversationId == null ? UUID.randomUUID() : conversationId;
    return Optional.ofNullable(assign(routing, conversation, pinnedVersionId));
  }

  /** The current snapshot of a scope (loaded on first use), completing on the caller's context. */
  public Future<Routing> routing(Scope scope) {
    Future<Routing> cached = snapshots.get(scope);
    if (cached != null && !cached.failed()) {
      return CallerContext.bind(cached);
    }
    return load(scope);
  }

  /** Reloads a scope now if this node uses it; called on every change event. */
  public void refresh(Scope scope) {
    if (snapshots.containsKey(scope)) {
      load(scope);
    }
  }

  /** Reloads every scope this node uses: the periodic safety net beside the change events. */
  public void refreshAll() {
    Set.copyOf(snapshots.keySet()).forEach(this::refresh);
  }

  private Future<Routing> load(Scope scope) {
    Future<Routing> loading = scope.tx(database, c -> Routing.load(c, scope));
    snapshots.put(scope, loading);
    loading.onFailure(err -> {
      snapshots.remove(scope, loading);
      LOG.warn("cannot load the model routing of {}: {}", scope.label(), err.getMessage());
    });
    return loading;
  }

  Assignment assign(Routing r, UUID conversationId, UUID pinnedVersionId) {
    ModelVersion stable = r.serving();
    Rollout rollout = r.active();
    if (stable == null) {
      return null;
    }
    if (rollout == null) {
      return new Assignment(stable, Assignment.Role.STABLE, null, -1, null, null, false);
    }
    int bucket = Buckets.of(rollout.id(), conversationId);
    switch (rollout.mode()) {
      case SHADOW -> {
        ModelVersion candidate = r.versions().get(rollout.candidateVersionId());
        boolean shadowed = candidate != null && bucket < rollout.basisPoints() && live(candidate);
        return new Assignment(stable, Assignment.Role.STABLE, rollout, bucket, null, shadowed ? candidate : null, false);
      }
      case CANARY -> {
        ModelVersion candidate = r.versions().get(rollout.candidateVersionId());
        boolean pinnedHere = pinnedVersionId != null && rollout.candidateVersionId().equals(pinnedVersionId);
        boolean pinnedStable = pinnedVersionId != null && pinnedVersionId.equals(stable.id());
        boolean wantsCandidate = pinnedHere || !pinnedStable && bucket < rollout.basisPoints();
        return wantsCandidate ? candidateOrStable(candidate, stable, rollout, bucket)
            : new Assignment(stable, Assignment.Role.STABLE, rollout, bucket, null, null, false);
      }
      default -> {
        UUID armVersion = null;
        if (pinnedVersionId != null && rollout.arms().stream().anyMatch(a -> a.versionId().equals(pinnedVersionId))) {
          armVersion = pinnedVersionId;
        } else {
          int upTo = 0;
          for (Arm arm : rollout.arms()) {
            upTo += arm.basisPoints();
            if (bucket < upTo) {
              armVersion = arm.versionId();
              break;
            }
          }
        }
        Assignment chosen = armVersion == null || armVersion.equals(stable.id())
            ? new Assignment(stable, Assignment.Role.STABLE, rollout, bucket, null, null, false)
            : candidateOrStable(r.versions().get(armVersion), stable, rollout, bucket);
        return paired(r, rollout, chosen);
      }
    }
  }

  /**
   * Pair sampling: on this share of an A/B rollout's turns one other live arm also answers, in the
   * background like a shadow candidate (never shown), so the rollout yields preference pairs.
   */
  private Assignment paired(Routing r, Rollout rollout, Assignment a) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    if (rollout.pairBasisPoints() <= 0 || random.nextInt(10_000) >= rollout.pairBasisPoints()) {
      return a;
    }
    List<ModelVersion> others = rollout.arms().stream().map(arm -> r.versions().get(arm.versionId()))
        .filter(v -> v != null && !v.id().equals(a.version().id()) && live(v)).toList();
    return others.isEmpty() ? a : new Assignment(a.version(), a.role(), a.rollout(), a.bucket(), a.fallback(),
        others.get(random.nextInt(others.size())), a.rerouted());
  }

  private Assignment candidateOrStable(ModelVersion candidate, ModelVersion stable, Rollout rollout, int bucket) {
    if (candidate != null && live(candidate)) {
      return new Assignment(candidate, Assignment.Role.CANDIDATE, rollout, bucket, stable, null, false);
    }
    return new Assignment(stable, Assignment.Role.STABLE, rollout, bucket, null, null, true);
  }

  /** An OpenAI-compatible endpoint is always live; a local model needs a worker announcing its key. */
  public boolean live(ModelVersion v) {
    return v.backend() == Backend.OPENAI || live.serves(v.modelKey());
  }
}
