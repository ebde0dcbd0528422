package ai.deepchat.console.audit;

import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

import java.util.Map;
import java.util.UUID;

/**
 * Writes one audit row for a console change through the platform's hash-chained audit log ({@link AuditTrail}),
 * inside the same transaction as the change, so a change is never committed without its record.
 */
public final class ConsoleAudit {

  private final AuditTrail log;

  public ConsoleAudit(AuditTrail log) {
    this.log = log;
  }

  public Future<Void> record(SqlConnection c, ConsoleSession s, String ip, String action, String target,
                             JsonObject details) {
    return record(c, s.tenantId(), s.actor(), ip, action, target, details);
  }

  public Future<Void> record(SqlConnection c, UUID tenantId, String actor, String ip, String action,
                             String target, JsonObject details) {
    Map<String, Object> fields = details == null ? Map.of() : details.getMap();
    return log.append(c, new AuditEntry(tenantId.toString(), actor, action, target == null ? "" : target, ip, fields))
        .mapEmpty();
  }
}
