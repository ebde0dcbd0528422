package ai.deepchat.console.audit;

import ai.deepchat.console.auth.ConsoleSession;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * Writes one audit row for a console change, inside the same transaction as the change, so a change
 * is never committed without its record. Rows are hash-chained per tenant (each hash covers the
 * previous one); an advisory lock orders concurrent writers of one tenant, since the application role
 * may only SELECT and INSERT on audit_log.
 */
public final class ConsoleAudit {

  private static final String INSERT = "INSERT INTO audit_log "
      + "(tenant_id, actor, action, target, ip, details, created_at, prev_hash, hash) "
      + "SELECT $1::uuid, $2, $3, $4, $5, $6::jsonb, x.ts, x.prev, encode(sha256(convert_to(x.prev || '|' || $1::uuid::text "
      + "|| '|' || $2 || '|' || $3 || '|' || $4 || '|' || coalesce($5, '') || '|' || $6::jsonb::text || '|' "
      + "|| to_char(x.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'UTF8')), 'hex') "
      + "FROM (SELECT clock_timestamp() AS ts, coalesce((SELECT hash FROM audit_log WHERE tenant_id = $1::uuid "
      + "ORDER BY id DESC LIMIT 1), repeat('0', 64)) AS prev) x";

  private ConsoleAudit() {
  }

  public static Future<Void> record(SqlConnection c, ConsoleSession s, String ip, String action, String target,
                                    JsonObject details) {
    return record(c, s.tenantId(), s.actor(), ip, action, target, details);
  }

  public static Future<Void> record(SqlConnection c, UUID tenantId, String actor, String ip, String action,
                                    String target, JsonObject details) {
    return c.preparedQuery("SELECT pg_advisory_xact_lock(hashtextextended('audit:' || $1::uuid::text, 0))")
        .execute(Tuple.of(tenantId))
        .compose(locked -> c.preparedQuery(INSERT).execute(Tuple.of(tenantId, actor, action,
            target == null ? "" : target, ip, details == null ? new JsonObject() : details)))
        .mapEmpty();
  }
}
