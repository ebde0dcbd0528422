package ai.deepchat.faq;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.platform.policy.AuditTrail;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A tenant's FAQ answers read and replaced in bulk. An import runs in one transaction with its audit
 * row: every row is applied, or none. {@code merge} updates the answers whose question matches a row
 * (a question kept keeps its embedding) and adds the others; {@code replace} makes the table exactly
 * the file.
 */
public final class FaqStore {

  /** What an import changed. */
  public record Imported(int inserted, int updated, int deleted) {
  }

  public enum Mode { MERGE, REPLACE }

  /** Mixed into the advisory lock key so it cannot meet another feature's lock of the same tenant. */
  private static final long IMPORT_LOCK = 0x4641515f494d504fL; // "FAQ_IMPO"

  private final Database database;
  private final AuditTrail audit;

  public FaqStore(Database database, AuditTrail audit) {
    this.database = database;
    this.audit = audit;
  }

  /** Every answer of the tenant, oldest first (the order they were written in). */
  public Future<List<FaqRow>> export(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn.query("SELECT question, answer, enabled FROM faq_entries "
            + "ORDER BY created_at, id").execute()
        .map(rows -> {
          List<FaqRow> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(new FaqRow(row.getString("question"), row.getString("answer"), row.getBoolean("enabled")));
          }
          return out;
        }));
  }

  /** Applies {@code rows} (already checked by {@link FaqSheet}) and audits it as {@code actor}, atomically. */
  public Future<Imported> importRows(UUID tenantId, List<FaqRow> rows, Mode mode, String actor, String ip) {
    // one import of a tenant at a time: two merges of the same new question must not both add it
    return database.inTenant(tenantId, conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock($1)")
        .execute(Tuple.of(tenantId.getMostSignificantBits() ^ IMPORT_LOCK))
        .compose(locked -> mode == Mode.REPLACE
            ? conn.query("DELETE FROM faq_entries").execute().map(deleted -> new Existing(Map.of(), deleted.rowCount()))
            : existing(conn))
        .compose(existing -> {
          List<Tuple> inserts = new ArrayList<>();
          List<Tuple> updates = new ArrayList<>();
          for (FaqRow row : rows) {
            UUID id = existing.ids().get(row.question());
            if (id == null) {
              inserts.add(Tuple.of(tenantId, row.question(), row.answer(), row.enabled() == null || row.enabled()));
            } else {
              updates.add(Tuple.of(id, row.answer(), row.enabled()));
            }
          }
          Imported result = new Imported(inserts.size(), updates.size(), existing.deleted());
          return batch(conn, "INSERT INTO faq_entries (tenant_id, question, answer, enabled) VALUES ($1, $2, $3, $4)",
                  inserts)
              .compose(x -> batch(conn, "UPDATE faq_entries SET answer = $2, enabled = coalesce($3, enabled), updated_at = now() "
                  + "WHERE id = $1", updates))
              .compose(x -> audit.append(conn, new AuditEntry(tenantId.toString(), actor, "faq.import", "faq",
                  ip, Map.of("mode", mode.name().toLowerCase(), "rows", rows.size(), "inserted", result.inserted(),
                      "updated", result.updated(), "deleted", result.deleted()))))
              .map(result);
        }));
  }

  private record Existing(Map<String, UUID> ids, int deleted) {
  }

  private static Future<Existing> existing(SqlConnection conn) {
    return conn.query("SELECT id, question FROM faq_entries ORDER BY created_at, id").execute().map(rows -> {
      Map<String, UUID> ids = new HashMap<>();
      rows.forEach(row -> ids.putIfAbsent(row.getString("question").strip(), row.getUUID("id")));
      return new Existing(ids, 0);
    });
  }

  private static Future<Void> batch(SqlConnection conn, String sql, List<Tuple> tuples) {
    return tuples.isEmpty() ? Future.succeededFuture() : conn.preparedQuery(sql).executeBatch(tuples).mapEmpty();
  }
}
