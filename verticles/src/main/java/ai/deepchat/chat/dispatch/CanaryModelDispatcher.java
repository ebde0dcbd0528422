package ai.deepchat.chat.dispatch;

import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.canary.rollout.ModelChooser;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.UUID;

/**
 * Rollout routing in front of {@link TenantModelDispatcher}: an unnamed request gets the version the
 * {@link ModelChooser} assigns (stable, canary/A-B candidate, or stable with a shadow), pinned to the
 * version stored on the conversation so a percentage change never moves a conversation midway. A named
 * request, or a tenant and platform with nothing registered, is the plain dispatcher's. The choice carries
 * the {@link Assignment} so the conversation can report outcomes and run the shadow.
 */
public final class CanaryModelDispatcher implements ModelDispatcher {

  private final Database database;
  private final ModelChooser chooser;
  private final TenantModelDispatcher plain;

  public CanaryModelDispatcher(Database database, ModelChooser chooser, TenantModelDispatcher plain) {
    this.database = database;
    this.chooser = chooser;
    this.plain = plain;
  }

  @Override
  public Future<ModelChoice> choose(UUID tenantId, UUID conversationId, String requestedModel) {
    if (ModelNames.defaultAlias(requestedModel)) {
      return plain.named(tenantId, requestedModel)
          .compose(row -> row != null ? Future.succeededFuture(row) : choose(tenantId, conversationId, null));
    }
    if (!ModelNames.unnamed(requestedModel)) {
      return plain.choose(tenantId, conversationId, requestedModel);
    }
    return pinned(tenantId, conversationId)
        .compose(pin -> chooser.choose(tenantId, conversationId, pin))
        .compose(assigned -> assigned.isPresent() ? Future.succeededFuture(toChoice(assigned.get()))
            : plain.choose(tenantId, conversationId, requestedModel));
  }

  /**
   * As {@link #choose}, on the caller's transaction; the rollout snapshot is taken first (a snapshot load
   * needs a connection of its own). The pinned version is looked up only where the snapshot's choice depends
   * on it (a stored conversation, an active canary or A/B rollout): a new conversation has none, and without
   * such a rollout the choice is the same whatever it is (one statement less per continuing turn).
   */
  @Override
  public Future<ModelStep> inTransaction(UUID tenantId, UUID conversationId, boolean stored, String requestedModel) {
    if (!ModelNames.defaultAlias(requestedModel) && !ModelNames.unnamed(requestedModel)) {
      return Future.succeededFuture(TenantModelDispatcher.step(c -> plain.choose(c, tenantId, conversationId,
          requestedModel)));
    }
    return chooser.routingFor(tenantId).map(routing -> TenantModelDispatcher.step(c -> {
      Future<ModelChoice> named = ModelNames.defaultAlias(requestedModel)
          ? plain.named(c, tenantId, requestedModel) : Future.succeededFuture(null);
      return named.compose(row -> row != null ? Future.succeededFuture(row)
          : (stored && routing.keepsPins() ? pinned(c, conversationId) : Future.<UUID>succeededFuture(null))
              .compose(pin -> chooser.choose(routing, conversationId, pin)
                  .map(assigned -> Future.succeededFuture(toChoice(assigned)))
                  .orElseGet(() -> plain.choose(c, tenantId, conversationId, null))));
    }));
  }

  /** The version a stored conversation was answered by; null for a new one (or one on the platform default). */
  private Future<UUID> pinned(UUID tenantId, UUID conversationId) {
    if (conversationId == null) {
      return Future.succeededFuture(null);
    }
    return database.inTenant(tenantId, c -> pinned(c, conversationId));
  }

  private static Future<UUID> pinned(SqlConnection c, UUID conversationId) {
    if (c == TenantModelDispatcher.NO_STATEMENTS) {
      return Future.failedFuture(TenantModelDispatcher.NEEDS_STATEMENT);
    }
    return c.preparedQuery("SELECT model_version_id FROM conversations WHERE id = $1")
        .execute(Tuple.of(conversationId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0));
  }

  /** The assigned version as the backends run it; a candidate's fallback is the serving stable version. */
  public ModelChoice toChoice(Assignment a) {
    ModelChoice choice = choiceOf(a.version());
    BackendSpec fallback = a.fallback() == null ? choice.fallback() : choiceOf(a.fallback()).primary();
    return choice.withAssignment(a, fallback);
  }

  /** A version on its own (no fallback override), e.g. a shadow candidate. */
  public ModelChoice choiceOf(ModelVersion v) {
    return plain.toChoice(v.id().toString(), v.name(), v.backend().sql(), v.location(), v.params());
  }

  @Override
  public Future<List<ModelChoice>> available(UUID tenantId) {
    return plain.available(tenantId);
  }

  @Override
  public ModelChoice platformDefault() {
    return plain.platformDefault();
  }
}
