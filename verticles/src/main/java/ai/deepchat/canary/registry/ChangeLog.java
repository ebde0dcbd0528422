package ai.deepchat.canary.registry;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.canary.CanaryMessages.RoutingChanged;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.Map;

/**
 * Records every registry and rollout change inside the changing transaction (the tenant's hash-chained
 * audit log, or platform_model_audit for platform versions), and after commit tells every node to
 * reload the scope's routing.
 */
public final class ChangeLog {

  private final Vertx vertx;
  private final AuditLog audit;

  public ChangeLog(Vertx vertx, AuditLog audit) {
    this.vertx = vertx;
    this.audit = audit;
  }

  public Future<Void> record(SqlConnection conn, Scope scope, Actor actor, String action, String target,
                             Map<String, Object> details) {
    if (scope.platform()) {
      return conn.preparedQuery("INSERT INTO platform_model_audit (actor, action, target, details)"
              + " VALUES ($1, $2, $3, $4)")
          .execute(Tuple.of(actor.name(), action, target, new JsonObject(details))).mapEmpty();
    }
    return audit.append(conn, new AuditEntry(scope.tenantId().toString(), actor.name(), action, target, actor.ip(),
        details)).mapEmpty();
  }

  /** Call after the change committed: every node (this one included) reloads the scope. */
  public void publish(Scope scope, String reason) {
    vertx.eventBus().publish(Addresses.CANARY_CHANGED,
        new RoutingChanged(scope.platform() ? null : scope.tenantId().toString(), reason));
  }
}
