package ai.deepchat.policy.privacy;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Deletes conversations (and their messages) whose last activity (updated_at) is older than the
 * tenant's tenant_settings.retention_days, in batches, each batch one transaction with its audit row;
 * and the tenant's rollout outcomes (timings of the comparison panel, no text) older than
 * ROLLOUT_OUTCOME_RETENTION_DAYS or the tenant's retention when shorter.
 * Idempotent and safe to run on several nodes: a tenant being purged by one node is skipped by the
 * others (transaction-scoped advisory lock).
 */
final class RetentionJob {

  static final int BATCH = 500;
  private static final int LOCK_NAMESPACE = 0x52455445; // "RETE"

  private final Database database;
  private final AuditLog audit;
  private final int outcomeDays;

  /** {@code outcomeDays}: how long rollout outcomes are kept at most (ROLLOUT_OUTCOME_RETENTION_DAYS). */
  public RetentionJob(Database database, AuditLog audit, int outcomeDays) {
    this.database = database;
    this.audit = audit;
    this.outcomeDays = outcomeDays;
  }

  /** Purges every tenant, one after the other; returns the conversations deleted. */
  public Future<Long> runOnce() {
    return database.global(conn -> conn.query("SELECT id FROM tenants ORDER BY id").execute())
        .compose(rows -> {
          List<UUID> tenants = new ArrayList<>();
          rows.forEach(r -> tenants.add(r.getUUID("id")));
          return purgeAll(tenants, 0, 0L);
        });
  }

  private Future<Long> purgeAll(List<UUID> tenants, int i, long total) {
    if (i >= tenants.size()) {
      return Future.succeededFuture(total);
    }
    return purgeTenant(tenants.get(i)).compose(n -> purgeAll(tenants, i + 1, total + n));
  }

  /** Purges one tenant; returns the conversations deleted. */
  public Future<Long> purgeTenant(UUID tenant) {
    return purgeOutcomes(tenant).compose(outcomes -> purgeConversations(tenant));
  }

  private Future<Long> purgeConversations(UUID tenant) {
    return purgeBatch(tenant).compose(n -> n < BATCH ? Future.succeededFuture((long) n)
        : purgeConversations(tenant).map(more -> n + more));
  }

  /**
   * Deletes the tenant's expired rollout outcomes, a batch per transaction; returns how many. Measurements
   * only (no text, no visitor): no audit row, as with the metrics they feed.
   */
  Future<Long> purgeOutcomes(UUID tenant) {
    return database.inTenant(tenant, conn -> conn.preparedQuery("DELETE FROM rollout_outcomes WHERE id IN"
            + " (SELECT id FROM rollout_outcomes WHERE created_at < now() - make_interval(days =>"
            + " LEAST($1, COALESCE((SELECT retention_days FROM tenant_settings), 365))) LIMIT " + BATCH + ")")
        .execute(Tuple.of(outcomeDays)).map(rows -> rows.rowCount()))
        .compose(n -> n < BATCH ? Future.succeededFuture((long) n)
            : purgeOutcomes(tenant).map(more -> n + more));
  }

  private Future<Integer> purgeBatch(UUID tenant) {
    return database.inTenant(tenant, conn -> conn.preparedQuery("SELECT pg_try_advisory_xact_lock($1, hashtext($2))")
        .execute(Tuple.of(LOCK_NAMESPACE, tenant.toString()))
        .compose(lock -> {
          if (!lock.iterator().next().getBoolean(0)) {
            return Future.succeededFuture(0);
          }
          // WeChat/WeCom pushes past the retention too, once nothing is owed on them
          return conn.preparedQuery("DELETE FROM channel_messages WHERE status IN ('replied', 'sent', 'failed') AND "
                  + "received_at < now() - make_interval(days => COALESCE((SELECT retention_days FROM tenant_settings), 365))")
              .execute()
              // and the pictures users sent, unless an answer is still owed on one
              .compose(channel -> conn.preparedQuery("DELETE FROM channel_media m WHERE m.received_at < now() - "
                  + "make_interval(days => COALESCE((SELECT retention_days FROM tenant_settings), 365)) AND NOT EXISTS "
                  + "(SELECT 1 FROM channel_messages cm WHERE cm.media_id = m.id AND cm.status IN ('received', 'answered'))")
                  .execute())
              .compose(channel -> conn.preparedQuery("SELECT c.id, r.days FROM conversations c,"
                  + " (SELECT COALESCE((SELECT retention_days FROM tenant_settings), 365) AS days) r"
                  + " WHERE c.updated_at < now() - make_interval(days => r.days)"
                  + " ORDER BY c.updated_at LIMIT " + BATCH + " FOR UPDATE OF c SKIP LOCKED")
              .execute()
              .compose(old -> {
                if (old.size() == 0) {
                  return Future.succeededFuture(0);
                }
                List<UUID> ids = new ArrayList<>();
                int days = 0;
                for (Row r : old) {
                  ids.add(r.getUUID("id"));
                  days = r.getInteger("days");
                }
                UUID[] idArray = ids.toArray(UUID[]::new);
                int retentionDays = days;
                // shadow pairs hold the conversation's question and answers but no foreign key (their
                // rollout may be the platform's): deleted with it, like its messages
                return conn.preparedQuery("DELETE FROM shadow_answers WHERE conversation_id = ANY($1)")
                    .execute(Tuple.of(idArray))
                    .compose(x -> conn.preparedQuery("DELETE FROM messages WHERE conversation_id = ANY($1)")
                    .execute(Tuple.of(idArray)))
                    .compose(m -> conn.preparedQuery("DELETE FROM conversations WHERE id = ANY($1)")
                        .execute(Tuple.of(idArray))
                        .compose(c -> audit.append(conn, new AuditEntry(tenant.toString(), "system:retention",
                                "retention.purged", "conversations", null,
                                Map.of("conversations", c.rowCount(), "messages", m.rowCount(),
                                    "retentionDays", retentionDays)))
                            .map(receipt -> c.rowCount())));
              }));
        }));
  }
}
