package ai.deepchat.handoff;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.handoff.HandoffFields.WAIT_FIGURES;
import static ai.deepchat.handoff.HandoffFields.frame;
import static ai.deepchat.handoff.HandoffFields.queued;
import static ai.deepchat.handoff.HandoffFields.visibleName;

/**
 * Who serves the queue: round-robin assignment to online agents under the tenant's cap, requeueing of
 * conversations whose agent went silent, presence heartbeats, and the queued visitors' new places.
 */
final class HandoffAssignment {

  private static final int DISPATCH_BATCH = 50;
  /** Queued visitors told their new place after the queue moves (later places change little). */
  private static final int POSITION_UPDATES = 200;
  static final String STAFF_ROLES = "('agent', 'admin', 'owner')";

  private final Database db;
  private final AuditTrail audit;
  private final HandoffEvents events;
  private final int agentTimeoutSeconds;

  HandoffAssignment(Database db, AuditTrail audit, HandoffEvents events, int agentTimeoutSeconds) {
    this.db = db;
    this.audit = audit;
    this.events = events;
    this.agentTimeoutSeconds = agentTimeoutSeconds;
  }

  /**
   * Round-robin assignment: while the tenant assigns automatically, the longest-waiting conversation goes
   * to the online agent (fresh heartbeat) under the cap with the fewest open conversations, the one
   * assigned least recently first. One transaction per tenant at a time (an advisory lock).
   */
  Future<Void> dispatch(UUID tenantId) {
    List<AssignedHandoff> done = new ArrayList<>();
    return db.inTenant(tenantId, c -> HandoffSettings.load(c).compose(s -> !s.roundRobin() ? Future.succeededFuture()
            : c.query("SELECT pg_advisory_xact_lock(hashtext('handoff:' || app_tenant()::text))").execute()
                .compose(x -> assignNext(c, tenantId, s.cap(), done, DISPATCH_BATCH))))
        .map(x -> {
          done.forEach(h -> announceAssigned(tenantId, h));
          if (!done.isEmpty()) {
            positions(tenantId);
          }
          return (Void) null;
        })
        .onFailure(err -> org.slf4j.LoggerFactory.getLogger(HandoffAssignment.class)
            .warn("handoff assignment for tenant {} failed: {}", tenantId, err.toString()));
  }

  private Future<Void> assignNext(SqlConnection c, UUID tenantId, int cap, List<AssignedHandoff> done, int left) {
    if (left == 0) {
      return Future.succeededFuture();
    }
    String load = "(SELECT count(*) FROM handoffs a WHERE a.agent_id = p.user_id AND a.state = 'assigned')";
    return c.preparedQuery("WITH next AS (SELECT id FROM handoffs WHERE state = 'queued' ORDER BY queued_at LIMIT 1), "
            + "agent AS (SELECT p.user_id FROM agent_presence p JOIN users u ON u.id = p.user_id "
            + "  WHERE p.presence = 'online' AND p.last_seen > now() - make_interval(secs => $1) "
            + "  AND u.role IN " + STAFF_ROLES + " AND " + load + " < $2 "
            + "  ORDER BY " + load + ", p.last_assigned_at LIMIT 1) "
            + "UPDATE handoffs h SET state = 'assigned', agent_id = agent.user_id, assigned_at = now() FROM next, agent "
            + "WHERE h.id = next.id RETURNING h.id, h.conversation_id, h.visitor_id, h.agent_id")
        .execute(Tuple.of(agentTimeoutSeconds, cap))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture();
          }
          Row r = rows.iterator().next();
          UUID agent = r.getUUID("agent_id");
          UUID conversation = r.getUUID("conversation_id");
          return c.preparedQuery("UPDATE agent_presence SET last_assigned_at = clock_timestamp() WHERE user_id = $1")
              .execute(Tuple.of(agent))
              .compose(x -> audit.append(c, new AuditEntry(tenantId.toString(), "system:handoff",
                  "handoff.assigned", "conversation:" + conversation, null, Map.of("agent_id", agent.toString()))))
              .compose(x -> agentName(c, agent))
              .compose(name -> {
                done.add(new AssignedHandoff(r.getUUID("id"), conversation, r.getString("visitor_id"), agent, name, true));
                return assignNext(c, tenantId, cap, done, left - 1);
              });
        });
  }

  /**
   * Every node, every heartbeat: conversations claimed by an agent whose inbox went silent for the
   * timeout (node died, browser gone) return to the queue, and their visitors are told so.
   */
  Future<Void> requeueStale() {
    return db.global(c -> c.preparedQuery("SELECT * FROM handoff_requeue_stale(make_interval(secs => $1))")
            .execute(Tuple.of(agentTimeoutSeconds)))
        .map(rows -> {
          java.util.Set<UUID> tenants = new java.util.HashSet<>();
          for (Row r : rows) {
            UUID tenant = r.getUUID("tenant_id");
            tenants.add(tenant);
            events.toStaff(tenant, "assigned", new JsonObject()
                .put("conversation_id", r.getUUID("conversation_id").toString()).putNull("agent_id"));
          }
          tenants.forEach(t -> {
            events.queueChanged(t);
            dispatch(t).onComplete(x -> positions(t));
          });
          return null;
        });
  }

  /** Refreshes the presence heartbeat of agents whose inbox stream this node holds. */
  Future<Void> heartbeat(UUID tenantId, java.util.Collection<UUID> agents) {
    return db.inTenant(tenantId, c -> c.preparedQuery("INSERT INTO agent_presence (tenant_id, user_id, last_seen) "
            + "SELECT app_tenant(), u.id, now() FROM users u WHERE u.id = ANY($1) "
            + "ON CONFLICT (tenant_id, user_id) DO UPDATE SET last_seen = now()")
        .execute(Tuple.of(agents.toArray(new UUID[0]))).mapEmpty());
  }

  /** Tells the first queued visitors of a tenant their new place and wait (one query for all of them). */
  void positions(UUID tenantId) {
    db.inTenant(tenantId, c -> c.preparedQuery("SELECT q.conversation_id, q.visitor_id, q.position, " + WAIT_FIGURES
            + "FROM (SELECT conversation_id, visitor_id, row_number() OVER (ORDER BY queued_at) AS position "
            + "FROM handoffs WHERE state = 'queued' ORDER BY queued_at LIMIT $1) q")
        .execute(Tuple.of(POSITION_UPDATES, agentTimeoutSeconds)))
        .onSuccess(rows -> {
          for (Row r : rows) {
            UUID conversation = r.getUUID("conversation_id");
            events.toVisitor(tenantId, r.getString("visitor_id"),
                frame("handoff.queued", conversation, queued(r, r.getLong("position"))));
          }
        });
  }

  void announceAssigned(UUID tenantId, AssignedHandoff h) {
    events.toStaff(tenantId, "assigned", new JsonObject().put("conversation_id", h.conversationId().toString())
        .put("agent_id", h.agentId().toString()));
    events.queueChanged(tenantId);
    events.toVisitor(tenantId, h.visitorId(), new JsonObject().put("type", "handoff.assigned")
        .put("conversation_id", h.conversationId().toString())
        .put("agent", new JsonObject().put("name", visibleName(h.agentName()))));
  }

  /** The staff member's display name. */
  static Future<String> agentName(SqlConnection c, UUID agent) {
    return c.preparedQuery("SELECT display_name FROM users WHERE id = $1").execute(Tuple.of(agent))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }
}
