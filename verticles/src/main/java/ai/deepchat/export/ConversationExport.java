package ai.deepchat.export;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A workspace's conversations with their messages, intents, citations, feedback, ratings and staff's
 * actions (replies, notes, each handoff's queueing, assignment and resolution), streamed to
 * an HTTP response from a PostgreSQL cursor: {@value #BATCH} rows are read, written, and the next batch
 * is read only once the response took them, so a slow client slows the reading and the node never holds
 * the whole export (at most one batch, and for JSON Lines one conversation). Runs in one read-only
 * transaction of the tenant (row-level security: only its rows). Each export is audited before its first
 * byte, in a transaction of its own, so an export cut short is on record too.
 */
public final class ConversationExport {

  private static final Logger LOG = LoggerFactory.getLogger(ConversationExport.class);
  static final int BATCH = 200;
  /** Exports at once per instance: each holds a pooled connection for as long as its client reads. */
  public static final int MAX_RUNNING = 2;
  private static final String[] CSV_HEADER = {"conversation_id", "conversation_created_at", "channel", "visitor_id",
      "title", "model_version", "rating", "rating_comment", "message_id", "created_at", "role", "status", "intent",
      "intent_score", "content", "citations", "feedback", "feedback_comment", "agent"};
  /**
   * The filtered conversations, then one entry per row in time order: visitors' and the assistant's
   * messages, staff replies and notes (V26 handoff_messages: role agent or note, by agent), and the
   * handoffs' steps (role handoff, status queued / assigned / resolved, with the reason or resolution).
   */
  private static final String SQL = "WITH conv AS (SELECT cv.id, cv.created_at, cv.channel, cv.visitor_id, cv.title, "
      + "mv.name AS model_version FROM conversations cv LEFT JOIN model_versions mv ON mv.id = cv.model_version_id "
      + "WHERE ($1::timestamptz IS NULL OR cv.created_at >= $1) AND ($2::timestamptz IS NULL OR cv.created_at < $2) "
      + "AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM messages mi WHERE mi.conversation_id = cv.id AND mi.intent = $3)) "
      + "AND ($4::smallint[] IS NULL OR EXISTS (SELECT 1 FROM conversation_ratings cr WHERE cr.conversation_id = cv.id "
      + "AND cr.score = ANY($4))) AND ($5::text IS NULL OR cv.channel = $5) "
      + "AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower($6) AND ("
      + "EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = cv.id AND h.agent_id = u.id) "
      + "OR EXISTS (SELECT 1 FROM handoff_messages hm WHERE hm.conversation_id = cv.id AND hm.author_id = u.id))))), "
      + "entries AS (SELECT m.conversation_id, m.id, m.created_at, m.role, m.status, m.intent, m.intent_score, m.content, "
      + "m.citations, m.feedback, m.feedback_comment, NULL::text AS agent FROM messages m JOIN conv ON conv.id = m.conversation_id "
      + "WHERE m.role <> 'system' "
      + "UNION ALL SELECT hm.conversation_id, hm.id, hm.created_at, hm.kind, 'complete', NULL, NULL, hm.text, '[]'::jsonb, "
      + "NULL, NULL, u.email FROM handoff_messages hm JOIN conv ON conv.id = hm.conversation_id "
      + "LEFT JOIN users u ON u.id = hm.author_id "
      + "UNION ALL SELECT h.conversation_id, h.id, e.at, 'handoff', e.step, NULL, NULL, e.detail, '[]'::jsonb, NULL, NULL, "
      + "CASE WHEN e.step <> 'queued' THEN u.email END FROM handoffs h JOIN conv ON conv.id = h.conversation_id "
      + "LEFT JOIN users u ON u.id = h.agent_id CROSS JOIN LATERAL (VALUES (h.queued_at, 'queued', h.reason), "
      + "(h.assigned_at, 'assigned', NULL), (h.resolved_at, 'resolved', h.resolution)) e(at, step, detail) "
      + "WHERE e.at IS NOT NULL) "
      + "SELECT conv.id AS conversation_id, conv.created_at AS conversation_created_at, conv.channel, conv.visitor_id, "
      + "conv.title, conv.model_version, r.ratings, e.id AS message_id, e.created_at, e.role, e.status, e.intent, "
      + "e.intent_score, e.content, e.citations, e.feedback, e.feedback_comment, e.agent "
      + "FROM conv JOIN entries e ON e.conversation_id = conv.id "
      + "LEFT JOIN LATERAL (SELECT json_agg(json_build_object('score', cr.score, 'comment', cr.comment, "
      + "'created_at', cr.created_at) ORDER BY cr.created_at) AS ratings FROM conversation_ratings cr "
      + "WHERE cr.conversation_id = conv.id) r ON true "
      + "ORDER BY conv.created_at, conv.id, e.created_at, e.id";

  private final Database database;
  private final AuditTrail audit;
  private final LongAdder rowsRead = new LongAdder();
  private final AtomicInteger running = new AtomicInteger();

  /** Refused because {@link #MAX_RUNNING} exports are running; the caller answers 429 with a Retry-After. */
  public static final class Busy extends RuntimeException {

    public static final int RETRY_AFTER_SECONDS = 30;

    Busy() {
      super("Another export is running; retry in " + RETRY_AFTER_SECONDS + " s.", null, false, false);
    }
  }

  public ConversationExport(Database database, AuditTrail audit) {
    this.database = database;
    this.audit = audit;
  }

  /** Rows read from cursors so far, by every export of this node: a probe of how far reading ran ahead. */
  public long rowsRead() {
    return rowsRead.sum();
  }

  /**
   * Audits the export ({@code conversations.export}, by {@code actor} from {@code ip}), then streams it
   * as the response with a download file name. A failure before the first byte fails the future (the
   * caller answers its error); after it, the connection is reset so the client sees a cut-off download
   * rather than a file that looks complete. Past {@link #MAX_RUNNING} running exports it fails with
   * {@link Busy} before anything is audited or read, so slow downloads never take the database pool.
   */
  public Future<Void> stream(UUID tenantId, ExportFilter filter, ExportFormat format, String actor, String ip,
                             HttpServerResponse response) {
    if (running.incrementAndGet() > MAX_RUNNING) {
      running.decrementAndGet();
      return Future.failedFuture(new Busy());
    }
    return audit.append(new AuditEntry(tenantId.toString(), actor, "conversations.export", format.extension(), ip,
            filter.describe().put("format", format.extension()).getMap()))
        .compose(receipt -> database.inTenant(tenantId, c -> c.preparedQuery("SET TRANSACTION READ ONLY").execute()
            .compose(x -> c.prepare(SQL))
            .compose(statement -> {
              Cursor cursor = statement.cursor(Tuple.of(utc(filter.from()), utc(filter.to()), filter.intent(),
                  filter.ratings() == null ? null : filter.ratings().toArray(new Short[0]), filter.channel(),
                  filter.agent()));
              response.setChunked(true).putHeader("Content-Type", format.contentType())
                  .putHeader("Content-Disposition", "attachment; filename=\"conversations." + format.extension() + "\"")
                  .putHeader("Cache-Control", "no-store").putHeader("X-Content-Type-Options", "nosniff");
              Writer writer = format == ExportFormat.CSV ? new CsvWriter() : new JsonLinesWriter();
              return pump(cursor, writer, response).eventually(cursor::close).eventually(statement::close);
            })))
        .compose(x -> response.end())
        .recover(err -> {
          if (!response.headWritten()) {
            return Future.failedFuture(err);
          }
          LOG.warn("conversation export of tenant {} cut short: {}", tenantId, err.toString());
          response.reset();
          return Future.succeededFuture();
        })
        .onComplete(x -> running.decrementAndGet());
  }

  private Future<Void> pump(Cursor cursor, Writer writer, HttpServerResponse response) {
    return cursor.read(BATCH).compose((RowSet<Row> rows) -> {
      rowsRead.add(rows.size());
      Buffer chunk = writer.rows(rows, !cursor.hasMore());
      // the write completes once the socket took it: the next batch waits for a slow client
      Future<Void> written = chunk.length() == 0 ? Future.succeededFuture() : response.write(chunk);
      return written.compose(x -> cursor.hasMore() ? pump(cursor, writer, response) : Future.succeededFuture());
    });
  }

  /** Rows to bytes in one format; keeps what spans batches (the header, a conversation in progress). */
  private interface Writer {
    Buffer rows(RowSet<Row> rows, boolean last);
  }

  private static final class CsvWriter implements Writer {

    private boolean started;

    @Override
    public Buffer rows(RowSet<Row> rows, boolean last) {
      StringBuilder out = new StringBuilder();
      try (CSVPrinter printer = new CSVPrinter(out, CSVFormat.RFC4180)) {
        if (!started) {
          started = true;
          out.append('\uFEFF'); // so Excel reads it as UTF-8
          printer.printRecord((Object[]) CSV_HEADER);
        }
        for (Row r : rows) {
          JsonObject rating = latest(r.getValue("ratings"));
          JsonArray citations = r.getValue("citations") instanceof JsonArray a ? a : new JsonArray();
          printer.printRecord(r.getUUID("conversation_id"), time(r, "conversation_created_at"), r.getString("channel"),
              FormulaSafe.cell(r.getString("visitor_id")), FormulaSafe.cell(r.getString("title")),
              FormulaSafe.cell(r.getString("model_version")), rating == null ? null : rating.getValue("score"),
              rating == null ? null : FormulaSafe.cell(rating.getString("comment")), r.getUUID("message_id"),
              time(r, "created_at"), r.getString("role"), r.getString("status"), r.getString("intent"),
              r.getValue("intent_score"), FormulaSafe.cell(r.getString("content")),
              citations.isEmpty() ? null : FormulaSafe.cell(citations.encode()), r.getValue("feedback"),
              FormulaSafe.cell(r.getString("feedback_comment")), FormulaSafe.cell(r.getString("agent")));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return Buffer.buffer(out.toString());
    }

    private static JsonObject latest(Object ratings) {
      return ratings instanceof JsonArray a && !a.isEmpty() ? a.getJsonObject(a.size() - 1) : null;
    }
  }

  private static final class JsonLinesWriter implements Writer {

    private JsonObject conversation;

    @Override
    public Buffer rows(RowSet<Row> rows, boolean last) {
      Buffer out = Buffer.buffer();
      for (Row r : rows) {
        String id = r.getUUID("conversation_id").toString();
        if (conversation != null && !conversation.getString("id").equals(id)) {
          out.appendString(conversation.encode()).appendString("\n");
          conversation = null;
        }
        if (conversation == null) {
          conversation = new JsonObject().put("id", id).put("created_at", time(r, "conversation_created_at"))
              .put("channel", r.getString("channel")).put("visitor_id", r.getString("visitor_id"))
              .put("title", r.getString("title")).put("model_version", r.getString("model_version"))
              .put("ratings", r.getValue("ratings") instanceof JsonArray a ? a : new JsonArray())
              .put("messages", new JsonArray());
        }
        conversation.getJsonArray("messages").add(new JsonObject().put("id", r.getUUID("message_id").toString())
            .put("created_at", time(r, "created_at")).put("role", r.getString("role"))
            .put("status", r.getString("status")).put("intent", r.getString("intent"))
            .put("intent_score", r.getValue("intent_score")).put("content", r.getString("content"))
            .put("citations", r.getValue("citations") instanceof JsonArray a ? a : new JsonArray())
            .put("feedback", r.getValue("feedback")).put("feedback_comment", r.getString("feedback_comment"))
            .put("agent", r.getString("agent")));
      }
      if (last && conversation != null) {
        out.appendString(conversation.encode()).appendString("\n");
        conversation = null;
      }
      return out;
    }
  }

  private static OffsetDateTime utc(Instant t) {
    return t == null ? null : t.atOffset(ZoneOffset.UTC);
  }

  private static String time(Row r, String column) {
    OffsetDateTime t = r.getOffsetDateTime(column);
    return t == null ? null : t.toInstant().toString();
  }
}
