package ai.deepchat.channel.wechat;

import ai.deepchat.chat.conversation.AbandonedTurns;
import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Channels and their messages in PostgreSQL. A message row is the push's dedupe record and the durable
 * outbox of its answer: whoever holds its lease answers it; an expired lease lets another node take over.
 */
final class ChannelStore {

  /**
   * A message whose answer is owed (or was given), as stored; a picture's: {@code mediaRef} WeChat's
   * MediaId, {@code mediaId} the stored picture once fetched.
   */
  record Message(UUID id, UUID tenantId, UUID channelId, String dedupeKey, String openId, String msgType,
                 String question, String status, String answer, int partsSent, int attempts,
                 OffsetDateTime receivedAt, String mediaRef, UUID mediaId) {

    static Message of(Row r) {
      return new Message(r.getUUID("id"), r.getUUID("tenant_id"), r.getUUID("channel_id"), r.getString("dedupe_key"),
          r.getString("open_id"), r.getString("msg_type"), r.getString("question"), r.getString("status"),
          r.getString("answer"), r.getInteger("parts_sent"), r.getInteger("attempts"),
          r.getOffsetDateTime("received_at"), r.getString("media_ref"), r.getUUID("media_id"));
    }
  }

  /** A message id under its tenant, as the sweep finds it. */
  record Due(UUID tenantId, UUID id) {
  }

  private static final String CHANNEL_COLUMNS = "id, tenant_id, kind, name, app_id, agent_id, app_secret, token, "
      + "encoding_aes_key, mode, welcome_message, enabled";
  private static final String MESSAGE_COLUMNS = "id, tenant_id, channel_id, dedupe_key, open_id, msg_type, question, "
      + "status, answer, parts_sent, attempts, received_at, media_ref, media_id";

  private final Database db;
  private final String nodeId;
  private final int leaseSeconds;
  private final ChannelSecrets secrets;

  ChannelStore(Database db, String nodeId, int leaseSeconds, ChannelSecrets secrets) {
    this.db = db;
    this.nodeId = nodeId;
    this.leaseSeconds = leaseSeconds;
    this.secrets = secrets;
  }

  /** The channel a push names, or null when there is none of that kind (nothing else is told). */
  Future<ChannelConfig> find(UUID channelId, String kind) {
    return db.global(c -> c.preparedQuery("SELECT channel_tenant($1)").execute(Tuple.of(channelId))
            .map(rows -> rows.iterator().next().getUUID(0)))
        .compose(tenant -> tenant == null ? Future.succeededFuture(null) : channel(tenant, channelId))
        .map(ch -> ch != null && ch.kind().equals(kind) ? ch : null);
  }

  /** The channel with its secrets opened; fails with {@link ChannelSecrets.Unreadable} when they do not open here. */
  Future<ChannelConfig> channel(UUID tenantId, UUID channelId) {
    return db.inTenant(tenantId, c -> c.preparedQuery("SELECT " + CHANNEL_COLUMNS + " FROM channels WHERE id = $1")
        .execute(Tuple.of(channelId))
        .map(rows -> rows.size() == 0 ? null : channelOf(rows.iterator().next())));
  }

  private ChannelConfig channelOf(Row r) {
    return new ChannelConfig(r.getUUID("id"), r.getUUID("tenant_id"), r.getString("kind"), r.getString("name"),
        r.getString("app_id"), r.getString("agent_id"), secrets.open(r, "app_secret"), secrets.open(r, "token"),
        secrets.open(r, "encoding_aes_key"), r.getString("mode"), r.getString("welcome_message"),
        r.getBoolean("enabled"));
  }

  /**
   * Stores a push once, leased to this node; null when the cluster already has it (a retry or a
   * duplicate): then {@link #byKey} tells what became of it.
   */
  Future<Message> accept(ChannelConfig ch, Inbound in) {
    return db.inTenant(ch.tenantId(), c -> c.preparedQuery("INSERT INTO channel_messages (tenant_id, channel_id, "
            + "dedupe_key, open_id, msg_type, question, lease_owner, lease_until, attempts, media_ref) "
            + "VALUES (app_tenant(), $1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::int), 1, $8) "
            + "ON CONFLICT DO NOTHING RETURNING " + MESSAGE_COLUMNS)
        .execute(Tuple.tuple(java.util.Arrays.asList(ch.id(), in.dedupeKey(), in.openId(), in.msgType(),
            in.question() == null ? "" : in.question(), nodeId, leaseSeconds, in.mediaRef())))
        .map(ChannelStore::first));
  }

  Future<Message> byKey(ChannelConfig ch, String dedupeKey) {
    return db.inTenant(ch.tenantId(), c -> c.preparedQuery("SELECT " + MESSAGE_COLUMNS + " FROM channel_messages "
            + "WHERE channel_id = $1 AND dedupe_key = $2").execute(Tuple.of(ch.id(), dedupeKey))
        .map(ChannelStore::first));
  }

  /**
   * Takes over a message whose lease ran out; null when another node was first or nothing is owed. An
   * answer still unknown was being generated by the node whose lease ran out (or its try failed): that
   * generation is abandoned in the same transaction, so this node's turn starts at once.
   */
  Future<Message> claim(Due due) {
    return db.inTenant(due.tenantId(), c -> c.preparedQuery("UPDATE channel_messages SET lease_owner = $2, "
            + "lease_until = now() + make_interval(secs => $3::int), attempts = attempts + 1, updated_at = now() "
            + "WHERE id = $1 AND status IN ('received', 'answered') AND lease_until < now() RETURNING " + MESSAGE_COLUMNS)
        .execute(Tuple.of(due.id(), nodeId, leaseSeconds))
        .map(ChannelStore::first)
        .compose(m -> m == null || !"received".equals(m.status()) ? Future.succeededFuture(m)
            : AbandonedTurns.abandon(c, turnKey(m)).map(m)));
  }

  /** The idempotency key of the chat turn that answers {@code m}: one per push, whichever node runs it. */
  static String turnKey(Message m) {
    return "channel:" + m.channelId() + ":" + m.dedupeKey();
  }

  Future<List<Due>> due(int limit) {
    return db.global(c -> c.preparedQuery("SELECT tenant_id, id FROM due_channel_messages($1)")
        .execute(Tuple.of(limit))
        .map(rows -> {
          List<Due> out = new ArrayList<>();
          rows.forEach(r -> out.add(new Due(r.getUUID("tenant_id"), r.getUUID("id"))));
          return out;
        }));
  }

  /** The answer is known; {@code status}: 'replied' (given passively) or 'answered' (to be sent). */
  Future<Void> answered(Message m, String answer, String status) {
    // the question stays only while the answer is owed (the conversation keeps it, masked)
    return update(m, "status = $3, answer = $4, question = CASE WHEN $3 = 'replied' THEN '' ELSE question END",
        status, answer);
  }

  /**
   * {@code parts} parts of the answer went out (recorded once WeChat acknowledged the last of them, and
   * before the next is sent); once all did, the row keeps no text. The lease is renewed too: the next
   * part goes out with a whole lease ahead, so a node stalled between this and its send is rare.
   */
  Future<Void> sent(Message m, int parts, boolean all) {
    return update(m, "parts_sent = $3, status = CASE WHEN $4::boolean THEN 'sent' ELSE status END, "
        + "question = CASE WHEN $4::boolean THEN '' ELSE question END, "
        + "answer = CASE WHEN $4::boolean THEN '' ELSE answer END, "
        + "lease_until = now() + make_interval(secs => $5::int)", parts, all, leaseSeconds);
  }

  /**
   * Stores the picture of {@code m} (fetched by this node, which still holds the message) and links it to
   * the message, in one transaction; the picture's id.
   */
  Future<UUID> picture(Message m, WechatMedia.Picture p) {
    return db.inTenant(m.tenantId(), c -> c.preparedQuery("INSERT INTO channel_media (tenant_id, channel_id, open_id, "
            + "content_type, size_bytes, data) VALUES (app_tenant(), $1, $2, $3, $4, $5) RETURNING id")
        .execute(Tuple.of(m.channelId(), m.openId(), p.contentType(), p.data().length(), p.data()))
        .map(rows -> rows.iterator().next().getUUID(0))
        .compose(id -> c.preparedQuery("UPDATE channel_messages SET media_id = $3, updated_at = now() "
                + "WHERE id = $1 AND lease_owner = $2").execute(Tuple.of(m.id(), nodeId, id))
            // another node took the message over: this transaction, picture included, is undone
            .compose(rows -> rows.rowCount() == 1 ? Future.succeededFuture(id) : Future.failedFuture(new LeaseLost()))));
  }

  /** Nothing more will be tried. */
  Future<Void> failed(Message m, String error) {
    return update(m, "status = 'failed', error = $3, lease_until = NULL", error);
  }

  /** Let go of the lease so that another try comes after {@code seconds} (this node or another). */
  Future<Void> retryLater(Message m, String error, int seconds) {
    return update(m, "error = $3, lease_until = now() + make_interval(secs => $4::int)", error, seconds);
  }

  /** Extends this node's lease on a message it still works on. */
  Future<Void> renew(Message m) {
    return update(m, "lease_until = now() + make_interval(secs => $3::int)", leaseSeconds);
  }

  /**
   * Changes a message this node still holds ({@code set} uses $3 on: {@code params}); fails with
   * {@link LeaseLost} when another node took it over (this one was too slow: it must stop, not send).
   */
  private Future<Void> update(Message m, String set, Object... params) {
    Tuple t = Tuple.of(m.id(), nodeId);
    for (Object p : params) {
      t.addValue(p);
    }
    return db.inTenant(m.tenantId(), c -> c.preparedQuery("UPDATE channel_messages SET " + set
            + ", updated_at = now() WHERE id = $1 AND lease_owner = $2").execute(t))
        .compose(rows -> rows.rowCount() == 1 ? Future.<Void>succeededFuture() : Future.failedFuture(new LeaseLost()));
  }

  /** Another node holds the message now. */
  static final class LeaseLost extends RuntimeException {
    LeaseLost() {
      super("another node took the message over", null, false, false);
    }
  }

  /** The visitor's conversation on this channel, when one was active in the last day (else a new one starts). */
  Future<UUID> conversation(ChannelConfig ch, String openId) {
    return db.inTenant(ch.tenantId(), c -> c.preparedQuery("SELECT id FROM conversations WHERE channel = $1 "
            + "AND visitor_id = $2 AND updated_at > now() - interval '1 day' ORDER BY updated_at DESC LIMIT 1")
        .execute(Tuple.of(ch.kind(), openId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0)));
  }

  private static Message first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : Message.of(rows.iterator().next());
  }
}
