package ai.deepchat.handoff;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * What the agent inbox reads and its small edits beside the state machine: the queue, one's own
 * conversations, the agents with presence and load, a conversation's whole history (bot turns, visitor,
 * agent and notes), canned replies, the tenant's handoff settings and tickets. All under the staff
 * member's tenant (row-level security); edits are audited in their transaction.
 */
public final class InboxQueries {

  private static final int LIST_LIMIT = 500;
  private static final int HISTORY_LIMIT = 2000;
  private static final String WAITING = "SELECT h.id, h.conversation_id, h.visitor_id, h.reason, h.state, h.agent_id, "
      + "h.queued_at, h.assigned_at, (SELECT m.content FROM messages m WHERE m.conversation_id = h.conversation_id "
      + "AND m.role = 'user' ORDER BY m.created_at DESC LIMIT 1) AS last_message FROM handoffs h ";

  private final Database db;
  private final AuditTrail audit;
  private final int agentTimeoutSeconds;

  InboxQueries(Database db, AuditTrail audit, int agentTimeoutSeconds) {
    this.db = db;
    this.audit = audit;
    this.agentTimeoutSeconds = agentTimeoutSeconds;
  }

  /** {queue, mine, assigned, agents, settings}: the inbox's first paint and what it reloads on a {@code queue} event. */
  public Future<JsonObject> inbox(Staff staff) {
    return db.inTenant(staff.tenantId(), c -> {
      JsonObject out = new JsonObject();
      return c.preparedQuery(WAITING + "WHERE h.state = 'queued' ORDER BY h.queued_at LIMIT " + LIST_LIMIT).execute()
          .compose(rows -> {
            out.put("queue", waiting(rows));
            return c.preparedQuery(WAITING + "WHERE h.state = 'assigned' AND h.agent_id = $1 ORDER BY h.assigned_at LIMIT "
                + LIST_LIMIT).execute(Tuple.of(staff.userId()));
          })
          .compose(rows -> {
            out.put("mine", waiting(rows));
            // every agent's open conversations: who has what (admins and owners transfer and resolve them)
            return c.preparedQuery(WAITING + "WHERE h.state = 'assigned' ORDER BY h.assigned_at LIMIT " + LIST_LIMIT)
                .execute();
          })
          .compose(rows -> {
            out.put("assigned", waiting(rows));
            return HandoffSettings.load(c);
          })
          .compose(settings -> {
            out.put("settings", settings.toJson());
            return c.preparedQuery("SELECT u.id, u.display_name, u.email, u.role, p.presence, "
                    + "p.last_seen > now() - make_interval(secs => $1) AS fresh, "
                    + "(SELECT count(*) FROM handoffs h WHERE h.agent_id = u.id AND h.state = 'assigned') AS active "
                    + "FROM users u LEFT JOIN agent_presence p ON p.user_id = u.id "
                    + "WHERE u.role IN ('agent', 'admin', 'owner') ORDER BY u.display_name, u.email")
                .execute(Tuple.of(agentTimeoutSeconds))
                .map(rows -> {
                  JsonArray agents = new JsonArray();
                  for (Row r : rows) {
                    boolean fresh = Boolean.TRUE.equals(r.getBoolean("fresh"));
                    String presence = !fresh ? "offline" : r.getString("presence");
                    agents.add(new JsonObject().put("id", r.getUUID("id").toString())
                        .put("name", r.getString("display_name").isBlank() ? r.getString("email") : r.getString("display_name"))
                        .put("role", r.getString("role")).put("presence", presence)
                        .put("active", r.getLong("active")).put("cap", settings.cap()));
                  }
                  return out.put("agents", agents);
                });
          });
    });
  }

  private static JsonArray waiting(Iterable<Row> rows) {
    JsonArray list = new JsonArray();
    for (Row r : rows) {
      list.add(new JsonObject().put("conversation_id", r.getUUID("conversation_id").toString())
          .put("handoff_id", r.getUUID("id").toString()).put("visitor_id", r.getString("visitor_id"))
          .put("reason", r.getString("reason")).put("state", r.getString("state"))
          .put("agent_id", r.getUUID("agent_id") == null ? null : r.getUUID("agent_id").toString())
          .put("queued_at", HandoffFields.time(r.getOffsetDateTime("queued_at")))
          .put("assigned_at", HandoffFields.time(r.getOffsetDateTime("assigned_at")))
          .put("last_message", r.getString("last_message")));
    }
    return list;
  }

  /** A widget conversation with its whole history, bot turns included, and its latest handoff. */
  public Future<JsonObject> conversation(Staff staff, UUID conversationId) {
    return db.inTenant(staff.tenantId(), c -> c.preparedQuery("SELECT id, visitor_id, title, created_at FROM conversations "
            + "WHERE id = $1 AND channel = 'widget'").execute(Tuple.of(conversationId))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw HandoffException.notFound("conversation_not_found", "No such conversation.");
          }
          Row conv = rows.iterator().next();
          JsonObject out = new JsonObject().put("conversation_id", conversationId.toString())
              .put("visitor_id", conv.getString("visitor_id")).put("title", conv.getString("title"))
              .put("created_at", HandoffFields.time(conv.getOffsetDateTime("created_at")));
          return c.preparedQuery("SELECT id, state, reason, agent_id, resolution, queued_at, assigned_at, first_reply_at, "
                  + "resolved_at FROM handoffs WHERE conversation_id = $1 ORDER BY queued_at DESC LIMIT 1")
              .execute(Tuple.of(conversationId))
              .compose(h -> {
                out.put("handoff", h.size() == 0 ? null : handoff(h.iterator().next()));
                // the bot's citations, and who of the staff wrote a reply or note (their name, as in the inbox)
                return c.preparedQuery("SELECT id, CASE role WHEN 'user' THEN 'visitor' ELSE role END AS role, "
                        + "content AS text, intent, citations, NULL AS agent_id, NULL AS agent_name, created_at "
                        + "FROM messages WHERE conversation_id = $1 "
                        + "AND role IN ('user', 'assistant') AND status <> 'streaming' "
                        + "UNION ALL SELECT m.id, m.kind, m.text, NULL, NULL, m.author_id, "
                        + "coalesce(nullif(u.display_name, ''), u.email), m.created_at FROM handoff_messages m "
                        + "LEFT JOIN users u ON u.id = m.author_id WHERE m.conversation_id = $1 "
                        + "ORDER BY created_at, id LIMIT " + HISTORY_LIMIT).execute(Tuple.of(conversationId));
              })
              .map(msgs -> {
                JsonArray list = new JsonArray();
                for (Row m : msgs) {
                  JsonObject item = new JsonObject().put("id", m.getUUID("id").toString()).put("role", m.getString("role"))
                      .put("text", m.getString("text")).put("intent", m.getString("intent"))
                      .put("created_at", HandoffFields.time(m.getOffsetDateTime("created_at")));
                  JsonArray citations = m.getJsonArray("citations");
                  if (citations != null && !citations.isEmpty()) {
                    item.put("citations", citations);
                  }
                  if (m.getUUID("agent_id") != null) {
                    item.put("agent_id", m.getUUID("agent_id").toString()).put("agent_name", m.getString("agent_name"));
                  }
                  list.add(item);
                }
                return out.put("messages", list);
              });
        }));
  }

  /** Fails with 404 unless this is a widget conversation of the staff member's tenant. */
  public Future<Void> requireConversation(Staff staff, UUID conversationId) {
    return db.inTenant(staff.tenantId(), c -> c.preparedQuery("SELECT 1 FROM conversations WHERE id = $1 "
            + "AND channel = 'widget'").execute(Tuple.of(conversationId)))
        .map(rows -> {
          if (rows.size() == 0) {
            throw HandoffException.notFound("conversation_not_found", "No such conversation.");
          }
          return null;
        });
  }

  private static JsonObject handoff(Row r) {
    return new JsonObject().put("id", r.getUUID("id").toString()).put("state", r.getString("state"))
        .put("reason", r.getString("reason"))
        .put("agent_id", r.getUUID("agent_id") == null ? null : r.getUUID("agent_id").toString())
        .put("resolution", r.getString("resolution"))
        .put("queued_at", HandoffFields.time(r.getOffsetDateTime("queued_at")))
        .put("assigned_at", HandoffFields.time(r.getOffsetDateTime("assigned_at")))
        .put("first_reply_at", HandoffFields.time(r.getOffsetDateTime("first_reply_at")))
        .put("resolved_at", HandoffFields.time(r.getOffsetDateTime("resolved_at")));
  }

  public Future<JsonObject> cannedReplies(Staff staff) {
    return db.inTenant(staff.tenantId(), c -> c.query("SELECT id, title, text FROM canned_replies ORDER BY title").execute())
        .map(rows -> {
          JsonArray list = new JsonArray();
          for (Row r : rows) {
            list.add(new JsonObject().put("id", r.getUUID("id").toString()).put("title", r.getString("title"))
                .put("text", r.getString("text")));
          }
          return new JsonObject().put("canned", list);
        });
  }

  public Future<JsonObject> addCannedReply(Staff staff, JsonObject body) {
    String title = HandoffFields.text(body.getValue("title"), "title", 200, true);
    String text = HandoffFields.text(body.getValue("text"), "text", Handoffs.MAX_TEXT, true);
    return db.inTenant(staff.tenantId(), c -> c.preparedQuery("INSERT INTO canned_replies (tenant_id, title, text, created_by) "
            + "VALUES (app_tenant(), $1, $2, $3) ON CONFLICT (tenant_id, title) DO NOTHING RETURNING id")
        .execute(Tuple.of(title, text, staff.userId()))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw HandoffException.conflict("title_taken", "A canned reply with this title exists.");
          }
          UUID id = rows.iterator().next().getUUID(0);
          return audit(c, staff, "canned_reply.created", "canned_reply:" + id, new JsonObject().put("title", title))
              .map(x -> new JsonObject().put("id", id.toString()).put("title", title).put("text", text));
        }));
  }

  /** Its author, an admin or an owner may delete a canned reply. */
  public Future<Void> deleteCannedReply(Staff staff, UUID id) {
    return db.inTenant(staff.tenantId(), c -> c.preparedQuery("DELETE FROM canned_replies WHERE id = $1 "
            + "AND (created_by = $2 OR $3) RETURNING title").execute(Tuple.of(id, staff.userId(), staff.supervisor()))
        .compose(rows -> {
          if (rows.size() == 0) {
            throw HandoffException.notFound("canned_reply_not_found", "No such canned reply of yours.");
          }
          return audit(c, staff, "canned_reply.deleted", "canned_reply:" + id,
              new JsonObject().put("title", rows.iterator().next().getString(0)));
        }));
  }

  public Future<JsonObject> settings(Staff staff) {
    return db.inTenant(staff.tenantId(), HandoffSettings::load).map(HandoffSettings::toJson);
  }

  /** Admins and owners change the settings (checked by the console); absent fields keep their value. */
  public Future<JsonObject> saveSettings(Staff staff, JsonObject body) {
    return db.inTenant(staff.tenantId(), c -> HandoffSettings.load(c).compose(current -> {
      HandoffSettings next = HandoffSettings.parse(body, current);
      return next.save(c).compose(x -> audit(c, staff, "handoff.settings_changed", "handoff_settings", next.toJson()))
          .map(x -> next.toJson());
    }));
  }

  /** The newest tickets (messages left outside business hours). */
  public Future<JsonObject> tickets(Staff staff) {
    return db.inTenant(staff.tenantId(), c -> c.query("SELECT id, conversation_id, message, name, email, phone, status, "
            + "created_at FROM tickets ORDER BY created_at DESC LIMIT " + LIST_LIMIT).execute())
        .map(rows -> {
          JsonArray list = new JsonArray();
          for (Row r : rows) {
            list.add(new JsonObject().put("id", r.getUUID("id").toString())
                .put("conversation_id", r.getUUID("conversation_id").toString()).put("message", r.getString("message"))
                .put("name", r.getString("name")).put("email", r.getString("email")).put("phone", r.getString("phone"))
                .put("status", r.getString("status")).put("created_at", HandoffFields.time(r.getOffsetDateTime("created_at"))));
          }
          return new JsonObject().put("tickets", list);
        });
  }

  private Future<Void> audit(SqlConnection c, Staff staff, String action, String target, JsonObject details) {
    return audit.append(c, new AuditEntry(staff.tenantId().toString(), staff.actor(), action, target, staff.ip(),
        details.getMap())).mapEmpty();
  }
}
