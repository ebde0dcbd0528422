package ai.deepchat.platform.policy;

import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.platform.policy.PolicyMessages.AuditReceipt;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

/**
 * Appending to the tenant's hash-chained audit log: the contract the console and other recorders
 * compile against; the policy feature's {@code AuditLog} implements it and the launcher passes it on.
 * An append that succeeded is a committed row.
 */
public interface AuditTrail {

  /** Appends in a transaction of its own. */
  Future<AuditReceipt> append(AuditEntry entry);

  /**
   * Appends inside the caller's tenant transaction, so the audited change and its row commit or roll
   * back together; {@code entry.tenantId()} must be that transaction's tenant.
   */
  Future<AuditReceipt> append(SqlConnection conn, AuditEntry entry);
}
