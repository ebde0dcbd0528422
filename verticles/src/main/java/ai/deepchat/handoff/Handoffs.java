package ai.deepchat.handoff;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.KnownAbsent;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.policy.privacy.PiiMasker;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.time.Instant;
import java.util.UUID;

import static ai.deepchat.handoff.HandoffFields.WAIT_FIGURES;
import static ai.deepchat.handoff.HandoffFields.clientId;
import static ai.deepchat.handoff.HandoffFields.frame;
import static ai.deepchat.handoff.HandoffFields.id;
import static ai.deepchat.handoff.HandoffFields.queued;
import static ai.deepchat.handoff.HandoffFields.text;
import static ai.deepchat.handoff.HandoffFields.time;
import static ai.deepchat.handoff.HandoffFields.visibleName;

/**
 * The handoff state machine in PostgreSQL (bot → queued → assigned → resolved, one open handoff per
 * conversation): escalation, assignment (round-robin or claims, under the per-agent cap), staff
 * messages stored exactly once per client id before they are acknowledged, transfer, resolve, presence.
 * Each change commits with its audit row; its events are published after the commit ({@link HandoffEvents}),
 * so what a client sees is always in the database. Node-wide and stateless (see {@link HandoffNode}).
 */
public final class Handoffs {

  public static final int MAX_TEXT = 4000;

  private final Database db;
  private final AuditTrail audit;
  private final HandoffEvents events;
  private final int agentTimeoutSeconds;
  private final Clock clock;
  private final HandoffAssignment assignment;

  Handoffs(Database db, AuditTrail audit, HandoffEvents events, int agentTimeoutSeconds, Clock clock) {
    this.db = db;
    this.audit = audit;
    this.events = events;
    this.agentTimeoutSeconds = agentTimeoutSeconds;
    this.clock = clock;
    this.assignment = new HandoffAssignment(db, audit, events, agentTimeoutSeconds);
  }

  /** Assignment, requeueing and presence, for the node's heartbeat. */
  HandoffAssignment assignment() {
    return assignment;
  }

  // ---------------------------------------------------------------- visitor side

  /**
   * Puts a widget conversation in the tenant's queue (or says where it already is): {state:"queued",
   * position, expected_wait_s}, {state:"assigned", agent:{name}}, or outside business hours
   * {state:"offline", ticket:true, opens_at}. {@code visitorId} null: the system escalates (any visitor's).
   */
  public Future<JsonObject> escalate(UUID tenantId, String visitorId, UUID conversationId, String reason) {
    Instant now = clock.instant();
    boolean[] created = {false};
    String[] owner = {visitorId};
    return db.inTenant(tenantId, c -> widgetConversation(c, conversationId, visitorId)
            .compose(convVisitor -> {
              owner[0] = convVisitor;
              return openHandoff(c, conversationId, false);
            })
            .compose(open -> open != null ? Future.succeededFuture((JsonObject) null)
                : HandoffSettings.load(c).compose(s -> {
                  if (!s.hours().openAt(now)) {
                    Instant opens = s.hours().nextOpening(now);
                    return Future.succeededFuture(new JsonObject().put("state", "offline").put("ticket", true)
                        .put("opens_at", opens == null ? null : opens.toString()));
                  }
                  return c.preparedQuery("INSERT INTO handoffs (tenant_id, conversation_id, visitor_id, reason) "
                          + "VALUES (app_tenant(), $1, $2, $3) "
                          + "ON CONFLICT (tenant_id, conversation_id) WHERE state <> 'resolved' DO NOTHING")
                      .execute(Tuple.of(conversationId, owner[0], reason))
                      .map(rows -> {
                        created[0] = rows.rowCount() == 1;
                        return (JsonObject) null;
                      });
                })))
        .compose(offline -> {
          if (offline != null) {
            return Future.succeededFuture(offline);
          }
          if (created[0]) {
            // at once on this node, not when V51's notification comes back: the visitor's next message is stored
            db.withoutOpenHandoff().invalidate(tenantId, conversationId);
          }
          Future<Void> assigned = created[0] ? assignment.dispatch(tenantId) : Future.succeededFuture();
          return assigned.compose(x -> status(tenantId, conversationId));
        })
        .onSuccess(status -> {
          if (created[0]) {
            events.queueChanged(tenantId);
          }
          if ("queued".equals(status.getString("state"))) {
            events.toVisitor(tenantId, owner[0], frame("handoff.queued", conversationId, status));
          } else if ("offline".equals(status.getString("state"))) {
            events.toVisitor(tenantId, owner[0], frame("handoff.offline", conversationId, status));
          }
        });
  }

  /**
   * The person button before the visitor wrote anything: the visitor's latest widget conversation when it
   * has an open handoff or is still empty (a repeated click creates nothing new), else a new one, then
   * {@link #escalate}; the answer names the conversation ({@code conversation_id}).
   */
  public Future<JsonObject> escalateNew(UUID tenantId, String visitorId, String reason) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT cv.id FROM conversations cv WHERE cv.visitor_id = $1 "
                + "AND cv.channel = 'widget' AND (EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = cv.id "
                + "AND h.state <> 'resolved') OR NOT (EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = cv.id) "
                + "OR EXISTS (SELECT 1 FROM handoff_messages hm WHERE hm.conversation_id = cv.id))) "
                + "AND cv.updated_at = (SELECT max(updated_at) FROM conversations WHERE visitor_id = $1 AND channel = 'widget')")
            .execute(Tuple.of(visitorId))
            .compose(rows -> rows.size() > 0 ? Future.succeededFuture(rows.iterator().next().getUUID(0))
                : c.preparedQuery("INSERT INTO conversations (tenant_id, visitor_id, channel) "
                    + "VALUES (app_tenant(), $1, 'widget') RETURNING id").execute(Tuple.of(visitorId))
                    .map(rows2 -> rows2.iterator().next().getUUID(0))))
        .compose(conversation -> escalate(tenantId, visitorId, conversation, reason)
            .map(s -> s.copy().put("conversation_id", conversation.toString())));
  }

  /** Where a conversation's open handoff stands (state "bot" when it has none). */
  public Future<JsonObject> status(UUID tenantId, UUID conversationId) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT h.state, u.display_name, "
            + "(SELECT count(*) FROM handoffs q WHERE q.state = 'queued' AND q.queued_at <= h.queued_at) AS position, "
            + WAIT_FIGURES + "FROM handoffs h LEFT JOIN users u ON u.id = h.agent_id "
            + "WHERE h.conversation_id = $1 AND h.state <> 'resolved'")
        .execute(Tuple.of(conversationId, agentTimeoutSeconds))
        .map(rows -> {
          if (rows.size() == 0) {
            return new JsonObject().put("state", "bot");
          }
          Row r = rows.iterator().next();
          if ("assigned".equals(r.getString("state"))) {
            return new JsonObject().put("state", "assigned")
                .put("agent", new JsonObject().put("name", visibleName(r.getString("display_name"))));
          }
          return queued(r, r.getLong("position"));
        }));
  }

  /**
   * A visitor's message in a conversation with an open handoff: stored (once per client message id) and
   * sent to the staff, never answered by the bot. Null when the conversation has no open handoff (the
   * bot answers as usual).
   */
  public Future<JsonObject> visitorMessage(UUID tenantId, String visitorId, UUID conversationId, String text,
                                           String idempotencyKey) {
    if (conversationId == null) {
      return Future.succeededFuture(null);
    }
    // most widget turns are in conversations no person was ever asked into: remembered per node, so
    // such a turn runs no transaction for this (V51 announces every handoff that opens)
    KnownAbsent noHandoff = db.withoutOpenHandoff();
    if (noHandoff.absent(tenantId, conversationId)) {
      return Future.succeededFuture(null);
    }
    long readFrom = noHandoff.begin();
    String stored = PiiMasker.mask(text);
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT visitor_id FROM handoffs WHERE conversation_id = $1 "
            + "AND state <> 'resolved'").execute(Tuple.of(conversationId))
        .compose(open -> {
          if (open.size() == 0) {
            noHandoff.offer(tenantId, conversationId, readFrom);
          }
          // another visitor's handoff (a conversation not the visitor's): the turn refuses it as before
          return Future.succeededFuture(open.size() == 1 && visitorId.equals(open.iterator().next().getString(0)));
        })
        .compose(handedOver -> !handedOver ? Future.succeededFuture((JsonObject) null)
            : c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, status, idempotency_key, "
                    + "created_at) VALUES (app_tenant(), $1, 'user', $2, 'complete', $3, clock_timestamp()) "
                    + "ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
                    + "RETURNING id, created_at")
                .execute(Tuple.of(conversationId, stored, idempotencyKey))
                .compose(rows -> rows.size() == 1 ? Future.succeededFuture(rows)
                    : c.preparedQuery("SELECT id, created_at FROM messages WHERE idempotency_key = $1")
                        .execute(Tuple.of(idempotencyKey)))
                .compose(rows -> c.preparedQuery("UPDATE conversations SET updated_at = now() WHERE id = $1")
                    .execute(Tuple.of(conversationId)).map(x -> rows.iterator().next()))
                .map(r -> new JsonObject().put("conversation_id", conversationId.toString())
                    .put("id", r.getUUID("id").toString()).put("role", "visitor").put("text", stored)
                    .put("created_at", time(r.getOffsetDateTime("created_at"))))))
        .onSuccess(m -> {
          if (m != null) {
            events.toStaff(tenantId, "message", m);
          }
        });
  }

  /** The visitor's typing indicator, for the staff of a conversation the visitor owns with an open handoff. */
  public Future<Void> visitorTyping(UUID tenantId, String visitorId, UUID conversationId, boolean typing) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT 1 FROM handoffs WHERE conversation_id = $1 "
            + "AND visitor_id = $2 AND state <> 'resolved'").execute(Tuple.of(conversationId, visitorId)))
        .map(rows -> {
          if (rows.size() > 0) {
            events.toStaff(tenantId, "typing", new JsonObject().put("conversation_id", conversationId.toString())
                .put("who", "visitor").put("typing", typing));
          }
          return null;
        });
  }

  /**
   * After the bot answered with the handoff reply ({@code score} 1: the visitor asked for a person or a
   * tenant rule chose a person; else nothing answered confidently): escalates at once when asked, or
   * when the bot could not answer twice in a row.
   */
  public Future<Void> afterHandoffAnswer(UUID tenantId, String visitorId, UUID conversationId, double score) {
    if (score >= 1) {
      return escalate(tenantId, visitorId, conversationId, "asked").mapEmpty();
    }
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT intent, intent_score FROM messages WHERE conversation_id = $1 "
            + "AND role = 'assistant' AND status = 'complete' ORDER BY created_at DESC LIMIT 2")
        .execute(Tuple.of(conversationId)))
        .compose(rows -> {
          int unanswered = 0;
          for (Row r : rows) {
            // a handoff answer below score 1 is the bot not knowing (1: a person was asked for)
            Float stored = r.getFloat("intent_score");
            unanswered += "handoff".equals(r.getString("intent")) && stored != null && stored < 1 ? 1 : 0;
          }
          return unanswered == 2 ? escalate(tenantId, visitorId, conversationId, "unconfident").mapEmpty()
              : Future.succeededFuture();
        });
  }

  /** After a thumbs-down: a second one in the same conversation escalates it. */
  public Future<Void> afterNegativeFeedback(UUID tenantId, String visitorId, UUID messageId) {
    // counted since the conversation's last handoff ended: a person already heard the earlier ones
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT m.conversation_id, (SELECT count(*) FROM messages x "
            + "WHERE x.conversation_id = m.conversation_id AND x.feedback = -1 AND x.created_at > coalesce((SELECT "
            + "max(h.resolved_at) FROM handoffs h WHERE h.conversation_id = m.conversation_id), '-infinity')) AS negative "
            + "FROM messages m WHERE m.id = $1")
        .execute(Tuple.of(messageId)))
        .compose(rows -> {
          if (rows.size() == 0 || rows.iterator().next().getLong("negative") < 2) {
            return Future.succeededFuture();
          }
          return escalate(tenantId, visitorId, rows.iterator().next().getUUID("conversation_id"), "negative_feedback")
              .mapEmpty();
        });
  }

  /** A message left outside business hours (or instead of waiting): stored as a ticket; its id. */
  public Future<UUID> ticket(UUID tenantId, String visitorId, JsonObject body) {
    UUID conversationId = id(body.getValue("conversation_id"), "conversation_id");
    String message = text(body.getValue("message"), "message", MAX_TEXT, true);
    String name = text(body.getValue("name"), "name", 200, false);
    String email = text(body.getValue("email"), "email", 320, false);
    String phone = text(body.getValue("phone"), "phone", 40, false);
    if (email != null && !email.matches("[^@\\s]+@[^@\\s]+")) {
      throw HandoffException.badRequest("invalid_email", "'email' must be an e-mail address.");
    }
    if (phone != null && !phone.matches("[+0-9 ()-]{3,40}")) {
      throw HandoffException.badRequest("invalid_phone", "'phone' may hold digits, spaces, '+', '-', '(' and ')'.");
    }
    return db.inTenant(tenantId, c -> widgetConversation(c, conversationId, visitorId)
            .compose(v -> c.preparedQuery("INSERT INTO tickets (tenant_id, conversation_id, visitor_id, message, name, "
                    + "email, phone) VALUES (app_tenant(), $1, $2, $3, $4, $5, $6) RETURNING id")
                .execute(Tuple.of(conversationId, visitorId, message, name, email, phone))))
        .map(rows -> rows.iterator().next().getUUID(0))
        .onSuccess(id -> events.toStaff(tenantId, "ticket", new JsonObject().put("id", id.toString())
            .put("conversation_id", conversationId.toString())));
  }

  // ---------------------------------------------------------------- staff side

  /** Takes a queued conversation (the bot stays silent from now on); claiming one's own again is a no-op. */
  public Future<JsonObject> claim(Staff staff, UUID conversationId) {
    return db.inTenant(staff.tenantId(), c -> openHandoff(c, conversationId, true).compose(h -> {
          if (h == null) {
            throw HandoffException.notFound("not_in_queue", "This conversation is not waiting for a person.");
          }
          if (staff.userId().equals(h.agentId())) {
            return HandoffAssignment.agentName(c, staff.userId()).map(name -> h.assignedTo(staff.userId(), name, false));
          }
          if (h.agentId() != null) {
            throw HandoffException.conflict("already_claimed", "Another agent has this conversation.");
          }
          return underCap(c, staff.userId())
              .compose(x -> assign(c, h, staff.userId()))
              .compose(x -> touchPresence(c, staff.userId()))
              .compose(x -> audit(c, staff, "handoff.claimed", conversationId, new JsonObject()))
              .compose(x -> HandoffAssignment.agentName(c, staff.userId()))
              .map(name -> h.assignedTo(staff.userId(), name, true));
        }))
        .map(h -> {
          if (h.changed()) {
            assignment.announceAssigned(staff.tenantId(), h);
          }
          return new JsonObject().put("conversation_id", conversationId.toString()).put("state", "assigned")
              .put("agent_id", staff.userId().toString());
        });
  }

  /** The agent's reply: stored once per client id (a retry returns the same message), then sent to the visitor. */
  public Future<JsonObject> reply(Staff staff, UUID conversationId, JsonObject body) {
    return storedOnce(staff, conversationId, body, "agent", (c, text, clientId) ->
          openHandoff(c, conversationId, true).compose(h -> {
            if (h == null || !staff.userId().equals(h.agentId())) {
              throw HandoffException.conflict("not_assigned", "Claim this conversation before replying.");
            }
            return insertStaffMessage(c, staff, conversationId, "agent", text, clientId, h.visitorId())
                .compose(m -> c.preparedQuery("UPDATE handoffs SET first_reply_at = coalesce(first_reply_at, now()) "
                        + "WHERE id = $1").execute(Tuple.of(h.id()))
                    .compose(x -> touchPresence(c, staff.userId()))
                    .compose(x -> audit(c, staff, "handoff.replied", conversationId,
                        new JsonObject().put("message_id", m.getString("id")).put("chars", text.length())))
                    .map(m));
          }))
        .onSuccess(m -> {
          // a retry publishes again: the stored copy is what counts, the widget and inbox drop repeats by id
          String visitor = (String) m.remove("visitor_id");
          String name = visibleName((String) m.remove("author_name"));
          events.toVisitor(staff.tenantId(), visitor, new JsonObject().put("type", "agent.message")
              .put("conversation_id", conversationId.toString()).put("id", m.getString("id"))
              .put("text", m.getString("text")).put("created_at", m.getString("created_at"))
              .put("agent", new JsonObject().put("name", name))); // the display name, never the e-mail
          events.toStaff(staff.tenantId(), "message", message(conversationId, m, "agent")
              .put("agent_id", staff.userId().toString())); // the inbox names the author
        });
  }

  /** An internal note: staff only, never sent to the visitor nor shown in the widget's history. */
  public Future<JsonObject> note(Staff staff, UUID conversationId, JsonObject body) {
    return storedOnce(staff, conversationId, body, "note", (c, text, clientId) ->
          widgetConversation(c, conversationId, null)
              .compose(v -> insertStaffMessage(c, staff, conversationId, "note", text, clientId, v))
              .compose(m -> audit(c, staff, "handoff.note", conversationId,
                  new JsonObject().put("message_id", m.getString("id")).put("chars", text.length())).map(m)))
        .onSuccess(m -> {
          m.remove("visitor_id");
          m.remove("author_name");
          events.toStaff(staff.tenantId(), "message", message(conversationId, m, "note")
              .put("agent_id", staff.userId().toString())); // the inbox names the author
        });
  }

  /** The assigned agent's typing indicator, for the visitor's widget (not stored, not audited). */
  public Future<Void> typing(Staff staff, UUID conversationId, JsonObject body) {
    if (!(body.getValue("typing") instanceof Boolean typing)) {
      throw HandoffException.badRequest("invalid_typing", "'typing' must be true or false.");
    }
    return db.inTenant(staff.tenantId(), c -> openHandoff(c, conversationId, false)).map(h -> {
      if (h == null || !staff.userId().equals(h.agentId())) {
        throw HandoffException.conflict("not_assigned", "Claim this conversation first.");
      }
      events.toVisitor(staff.tenantId(), h.visitorId(), new JsonObject().put("type", "agent.typing")
          .put("conversation_id", conversationId.toString()).put("typing", typing));
      return null;
    });
  }

  /** Hands an open conversation to another staff member (its agent, or an admin or owner, may). */
  public Future<JsonObject> transfer(Staff staff, UUID conversationId, JsonObject body) {
    UUID target = id(body.getValue("agent_id"), "agent_id");
    return db.inTenant(staff.tenantId(), c -> openHandoff(c, conversationId, true).compose(h -> {
          mayManage(staff, h, "transfer");
          if (target.equals(h.agentId())) {
            return HandoffAssignment.agentName(c, target).map(name -> h.assignedTo(target, name, false));
          }
          return c.preparedQuery("SELECT p.last_seen > now() - make_interval(secs => $2) AS here FROM users u "
                  + "LEFT JOIN agent_presence p ON p.user_id = u.id WHERE u.id = $1 AND u.role IN " + HandoffAssignment.STAFF_ROLES)
              .execute(Tuple.of(target, agentTimeoutSeconds))
              .compose(rows -> {
                if (rows.size() == 0) {
                  throw HandoffException.notFound("agent_not_found", "No agent, admin or owner with this id.");
                }
                // one whose inbox is not open would lose it to the queue again at the next heartbeat
                if (!Boolean.TRUE.equals(rows.iterator().next().getBoolean("here"))) {
                  throw HandoffException.conflict("agent_offline", "This agent's inbox is not open.");
                }
                return underCap(c, target);
              })
              .compose(x -> assign(c, h, target))
              .compose(x -> audit(c, staff, "handoff.transferred", conversationId, new JsonObject()
                  .put("from", h.agentId() == null ? null : h.agentId().toString()).put("to", target.toString())))
              .compose(x -> HandoffAssignment.agentName(c, target))
              .map(name -> h.assignedTo(target, name, true));
        }))
        .map(h -> {
          if (h.changed()) {
            assignment.announceAssigned(staff.tenantId(), h);
          }
          return new JsonObject().put("conversation_id", conversationId.toString()).put("state", "assigned")
              .put("agent_id", target.toString());
        });
  }

  /** Ends the handoff: the bot answers again ({@code mode} "bot") or the conversation is closed ("closed"). */
  public Future<JsonObject> resolve(Staff staff, UUID conversationId, JsonObject body) {
    Object mode = body.getValue("mode");
    if (!"bot".equals(mode) && !"closed".equals(mode)) {
      throw HandoffException.badRequest("invalid_mode", "'mode' must be \"bot\" or \"closed\".");
    }
    return db.inTenant(staff.tenantId(), c -> openHandoff(c, conversationId, true).compose(h -> {
          mayManage(staff, h, "resolve");
          return c.preparedQuery("UPDATE handoffs SET state = 'resolved', resolution = $2, resolved_at = now() "
                  + "WHERE id = $1").execute(Tuple.of(h.id(), mode))
              .compose(x -> audit(c, staff, "handoff.resolved", conversationId, new JsonObject().put("mode", mode)
                  .put("handoff_id", h.id().toString())))
              .map(h);
        }))
        .map(h -> {
          JsonObject done = new JsonObject().put("conversation_id", conversationId.toString())
              .put("handoff_id", h.id().toString()).put("mode", mode);
          events.toStaff(staff.tenantId(), "resolved", done.copy());
          events.queueChanged(staff.tenantId());
          events.toVisitor(staff.tenantId(), h.visitorId(), done.copy().put("type", "handoff.resolved").put("rate", true));
          assignment.dispatch(staff.tenantId()); // a place under the agent's cap is free
          return done.put("state", "resolved");
        });
  }

  /** An agent's online/away choice; online agents get round-robin assignments. */
  public Future<JsonObject> presence(Staff staff, JsonObject body) {
    Object p = body.getValue("presence");
    if (!"online".equals(p) && !"away".equals(p)) {
      throw HandoffException.badRequest("invalid_presence", "'presence' must be \"online\" or \"away\".");
    }
    return db.inTenant(staff.tenantId(), c -> c.preparedQuery("INSERT INTO agent_presence (tenant_id, user_id, presence, "
                + "last_seen) VALUES (app_tenant(), $1, $2, now()) ON CONFLICT (tenant_id, user_id) "
                + "DO UPDATE SET presence = $2, last_seen = now()").execute(Tuple.of(staff.userId(), p))
            .compose(x -> audit(c, staff, "agent.presence", null, new JsonObject().put("presence", p))))
        .map(x -> {
          JsonObject event = new JsonObject().put("agent_id", staff.userId().toString()).put("presence", p);
          events.toStaff(staff.tenantId(), "presence", event.copy());
          if ("online".equals(p)) {
            assignment.dispatch(staff.tenantId());
          }
          return event;
        });
  }

  // ---------------------------------------------------------------- helpers

  /** An open handoff that this staff member may transfer or resolve: its agent, an admin or an owner. */
  private static void mayManage(Staff staff, AssignedHandoff h, String verb) {
    if (h == null) {
      throw HandoffException.notFound("not_in_queue", "This conversation has no open handoff.");
    }
    if (!staff.userId().equals(h.agentId()) && !staff.supervisor()) {
      throw HandoffException.forbidden("not_assigned", "Only its agent, an admin or an owner may " + verb + " it.");
    }
  }

  private Future<AssignedHandoff> openHandoff(SqlConnection c, UUID conversationId, boolean lock) {
    return c.preparedQuery("SELECT id, conversation_id, visitor_id, agent_id FROM handoffs WHERE conversation_id = $1 "
            + "AND state <> 'resolved'" + (lock ? " FOR UPDATE" : "")).execute(Tuple.of(conversationId))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row r = rows.iterator().next();
          return new AssignedHandoff(r.getUUID("id"), conversationId, r.getString("visitor_id"), r.getUUID("agent_id"), null,
              false);
        });
  }

  /** The conversation's visitor; 404 unless it is a widget conversation (of {@code visitorId}, when given). */
  private Future<String> widgetConversation(SqlConnection c, UUID conversationId, String visitorId) {
    return c.preparedQuery("SELECT visitor_id FROM conversations WHERE id = $1 AND channel = 'widget'")
        .execute(Tuple.of(conversationId))
        .map(rows -> {
          if (rows.size() == 0 || (visitorId != null && !visitorId.equals(rows.iterator().next().getString(0)))) {
            throw HandoffException.notFound("conversation_not_found", "No such conversation.");
          }
          return rows.iterator().next().getString(0);
        });
  }

  private Future<Void> underCap(SqlConnection c, UUID agent) {
    return HandoffSettings.load(c).compose(s -> c.preparedQuery("SELECT count(*) FROM handoffs WHERE agent_id = $1 "
            + "AND state = 'assigned'").execute(Tuple.of(agent))
        .map(rows -> {
          if (rows.iterator().next().getLong(0) >= s.cap()) {
            throw HandoffException.conflict("cap_reached", "This agent already has " + s.cap()
                + " open conversations (the tenant's cap).");
          }
          return null;
        }));
  }

  private Future<Void> assign(SqlConnection c, AssignedHandoff h, UUID agent) {
    return c.preparedQuery("UPDATE handoffs SET state = 'assigned', agent_id = $2, assigned_at = now() WHERE id = $1")
        .execute(Tuple.of(h.id(), agent))
        .compose(x -> c.preparedQuery("UPDATE agent_presence SET last_assigned_at = clock_timestamp() WHERE user_id = $1")
            .execute(Tuple.of(agent)))
        .mapEmpty();
  }

  private Future<Void> touchPresence(SqlConnection c, UUID agent) {
    return c.preparedQuery("INSERT INTO agent_presence (tenant_id, user_id, last_seen) VALUES (app_tenant(), $1, now()) "
        + "ON CONFLICT (tenant_id, user_id) DO UPDATE SET last_seen = now()").execute(Tuple.of(agent)).mapEmpty();
  }

  /** Stores a new staff message in the transaction it is given: text and client id validated. */
  @FunctionalInterface
  private interface NewMessage {
    Future<JsonObject> store(SqlConnection c, String text, String clientId);
  }

  /**
   * A staff message of {@code kind} from a body {text, client_id}: the one already stored with this client
   * id (a retry), else {@code store}'s, in one transaction.
   */
  private Future<JsonObject> storedOnce(Staff staff, UUID conversationId, JsonObject body, String kind, NewMessage store) {
    String text = text(body.getValue("text"), "text", MAX_TEXT, true);
    String clientId = clientId(body.getValue("client_id"));
    return db.inTenant(staff.tenantId(), c -> existing(c, conversationId, clientId, kind)
        .compose(found -> found != null ? Future.succeededFuture(found) : store.store(c, text, clientId)));
  }

  /** A stored staff message with this client id (a retry), or null; 409 when the id named another kind. */
  private Future<JsonObject> existing(SqlConnection c, UUID conversationId, String clientId, String kind) {
    return c.preparedQuery("SELECT h.id, h.kind, h.text, h.created_at, cv.visitor_id, " + AUTHOR_NAME
            + " FROM handoff_messages h JOIN conversations cv ON cv.id = h.conversation_id "
            + "WHERE h.conversation_id = $1 AND h.client_id = $2")
        .execute(Tuple.of(conversationId, clientId))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row r = rows.iterator().next();
          if (!kind.equals(r.getString("kind"))) {
            throw HandoffException.conflict("client_id_reused", "This client_id was used for another message.");
          }
          return staffMessage(r, r.getString("visitor_id")).put("duplicate", true);
        });
  }

  private Future<JsonObject> insertStaffMessage(SqlConnection c, Staff staff, UUID conversationId, String kind,
                                                String text, String clientId, String visitorId) {
    return c.preparedQuery("INSERT INTO handoff_messages (tenant_id, conversation_id, kind, author_id, text, client_id, "
            + "created_at) VALUES (app_tenant(), $1, $2, $3, $4, $5, clock_timestamp()) RETURNING id, text, created_at, "
            + AUTHOR_NAME)
        .execute(Tuple.of(conversationId, kind, staff.userId(), text, clientId))
        .compose(rows -> c.preparedQuery("UPDATE conversations SET updated_at = now() WHERE id = $1")
            .execute(Tuple.of(conversationId)).map(x -> staffMessage(rows.iterator().next(), visitorId)
                .put("duplicate", false)));
  }

  /** The author's display name of a handoff_messages row (what the visitor sees; never the e-mail). */
  private static final String AUTHOR_NAME = "(SELECT u.display_name FROM users u WHERE u.id = author_id) AS author_name";

  /** A stored staff message; {@code visitor_id} and {@code author_name} are for the events, not the answer. */
  private static JsonObject staffMessage(Row r, String visitorId) {
    return new JsonObject().put("id", r.getUUID("id").toString()).put("text", r.getString("text"))
        .put("created_at", time(r.getOffsetDateTime("created_at"))).put("visitor_id", visitorId)
        .put("author_name", r.getString("author_name"));
  }

  private static JsonObject message(UUID conversationId, JsonObject m, String role) {
    return new JsonObject().put("conversation_id", conversationId.toString()).put("id", m.getString("id"))
        .put("role", role).put("text", m.getString("text")).put("created_at", m.getString("created_at"));
  }

  private Future<Void> audit(SqlConnection c, Staff staff, String action, UUID conversationId, JsonObject details) {
    return audit.append(c, new AuditEntry(staff.tenantId().toString(), staff.actor(), action,
        conversationId == null ? "agent:" + staff.userId() : "conversation:" + conversationId, staff.ip(),
        details.getMap())).mapEmpty();
  }
}
