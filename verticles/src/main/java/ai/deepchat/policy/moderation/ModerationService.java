package ai.deepchat.policy.moderation;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.cache.TenantCache;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict;
import ai.deepchat.platform.policy.PolicyMessages.TenantPolicyChanged;
import ai.deepchat.policy.PolicyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Moderation for in-process callers (the chat pipeline; one service per node, in
 * {@code PolicyServices}): each tenant's word list is loaded once and cached in a {@link TenantCache}.
 * Admin changes publish {@link TenantPolicyChanged} on {@link Addresses#POLICY_CHANGED}; every service
 * on every node listens and drops its copy. The bus is best-effort, so cached lists also expire after
 * {@link #MAX_AGE} as a safety net.
 */
public final class ModerationService {

  static final Duration MAX_AGE = Duration.ofMinutes(5);

  private final Database database;
  /** Word lists compile on the pipeline's text pool, like its token counts (not Vert.x's default pool). */
  private final WorkerExecutor textWork;
  private final TenantCache<TenantModeration> cache;

  private ModerationService(Vertx vertx, Database database) {
    this.database = database;
    this.textWork = WorkerPools.of(vertx).open(WorkerPools.Kind.TOKENIZER);
    this.cache = TenantCache.create(vertx, MAX_AGE, this::load);
  }

  /** Creates a service and subscribes it to invalidations; {@link #close()} unsubscribes. */
  public static ModerationService create(Vertx vertx, Database database) {
    return new ModerationService(vertx, database);
  }

  /**
   * Tells every node that a tenant's policy settings changed (words, moderation action or reply, rate
   * limits, plugin configs). Call after the commit.
   */
  public static void publishChanged(Vertx vertx, UUID tenantId) {
    vertx.eventBus().publish(Addresses.POLICY_CHANGED, new TenantPolicyChanged(tenantId.toString()));
  }

  /** Checks a user message: ALLOW, MASK (masked text) or BLOCK (the tenant's polite reply). */
  public Future<ModerationVerdict> checkInput(UUID tenantId, String text) {
    return forTenant(tenantId).map(m -> {
      ModerationVerdict verdict = m.checkInput(text);
      PolicyMetrics.moderation("input", verdict.action().name().toLowerCase(java.util.Locale.ROOT));
      return verdict;
    });
  }

  /** A moderator for one streamed answer of this tenant. */
  public Future<StreamingModerator> outputModerator(UUID tenantId) {
    return forTenant(tenantId).map(TenantModeration::outputModerator);
  }

  public Future<TenantModeration> forTenant(UUID tenantId) {
    return cache.get(tenantId);
  }

  public void invalidate(UUID tenantId) {
    cache.invalidate(tenantId);
  }

  public Future<Void> close() {
    return Future.all(cache.close(), textWork.close()).mapEmpty();
  }

  /** Completes once the invalidation subscription has reached the cluster. */
  public Future<Void> ready() {
    return cache.ready();
  }

  private Future<TenantModeration> load(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn
            .query("SELECT moderation_action, blocked_reply FROM tenant_settings").execute()
            .compose(settings -> conn.query("SELECT word FROM sensitive_words").execute()
                .map(words -> new Loaded(settings, words))))
        // building the automaton for a long list is CPU work: keep it off the event loop
        .compose(loaded -> textWork.executeBlocking(loaded::build, false));
  }

  private record Loaded(RowSet<Row> settings, RowSet<Row> words) {
    TenantModeration build() {
      boolean block = true;
      String reply = TenantModeration.DEFAULT_BLOCKED_REPLY;
      for (Row row : settings) {
        block = !"mask".equals(row.getString("moderation_action"));
        reply = row.getString("blocked_reply");
      }
      List<String> list = new ArrayList<>(words.size());
      words.forEach(r -> list.add(r.getString("word")));
      return new TenantModeration(WordMatcher.of(list), block, reply);
    }
  }
}
