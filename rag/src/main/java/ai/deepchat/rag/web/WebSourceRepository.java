package ai.deepchat.rag.web;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.SqlStates;
import ai.deepchat.rag.Page;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/** SQL of web sources and their pages; every statement runs under the tenant's row-level security. */
final class WebSourceRepository {

  private static final String COLUMNS = "id, knowledge_base_id, start_url, whole_site, max_depth, max_pages, "
      + "sync_interval_minutes, status, error, pages_found, pages_done, pages_added, pages_updated, "
      + "pages_unchanged, pages_removed, pages_failed, last_synced_at, next_sync_at, created_at";

  /** What the previous sync left of one page: the decisive hash, and the document's state. */
  record Known(UUID documentId, String hash, String documentStatus) {
  }

  private final Database database;

  WebSourceRepository(Database database) {
    this.database = database;
  }

  Future<WebSource> create(UUID tenantId, UUID knowledgeBaseId, CrawlPlan plan, Integer intervalMinutes) {
    return database.inTenant(tenantId, conn -> conn
            .preparedQuery("INSERT INTO web_sources (tenant_id, knowledge_base_id, start_url, whole_site, max_depth, "
                + "max_pages, sync_interval_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING " + COLUMNS)
            .execute(Tuple.of(tenantId, knowledgeBaseId, plan.startUrl(), plan.wholeSite(), plan.maxDepth(),
                plan.maxPages(), intervalMinutes))
            .map(rows -> source(rows.iterator().next())))
        .recover(failure -> SqlStates.isUniqueViolation(failure)
            ? Future.failedFuture(new RagException(RagError.CONFLICT, "this knowledge base imports "
                + plan.startUrl() + " already; sync that source instead"))
            : Future.failedFuture(failure));
  }

  Future<Page<WebSource>> list(UUID tenantId, UUID knowledgeBaseId, UUID after, int limit) {
    return database.inTenant(tenantId, conn -> cursor(conn, "web_sources", after)
        .compose(ignored -> conn.preparedQuery("SELECT " + COLUMNS + " FROM web_sources WHERE knowledge_base_id = $1 "
                + "AND ($2::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM web_sources WHERE id = $2)) "
                + "ORDER BY created_at, id LIMIT $3")
            .execute(Tuple.of(knowledgeBaseId, after, limit + 1))
            .map(rows -> page(rows, limit, WebSourceRepository::source))));
  }

  Future<WebSource> get(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT " + COLUMNS + " FROM web_sources WHERE id = $1 AND knowledge_base_id = $2")
        .execute(Tuple.of(sourceId, knowledgeBaseId))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(notFound(sourceId))
            : Future.succeededFuture(source(rows.iterator().next()))));
  }

  /** Deletes the source and its page rows; answers the documents it had imported (the caller deletes them). */
  Future<List<UUID>> delete(UUID tenantId, UUID knowledgeBaseId, UUID sourceId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT document_id FROM web_source_pages p JOIN web_sources s ON s.id = p.source_id "
            + "WHERE s.id = $1 AND s.knowledge_base_id = $2 AND p.document_id IS NOT NULL")
        .execute(Tuple.of(sourceId, knowledgeBaseId))
        .compose(documents -> conn.preparedQuery("DELETE FROM web_sources WHERE id = $1 AND knowledge_base_id = $2")
            .execute(Tuple.of(sourceId, knowledgeBaseId))
            .compose(deleted -> {
              if (deleted.rowCount() == 0) {
                return Future.failedFuture(notFound(sourceId));
              }
              List<UUID> ids = new ArrayList<>();
              documents.forEach(row -> ids.add(row.getUUID(0)));
              return Future.succeededFuture(ids);
            })));
  }

  /**
   * Takes the source's sync lease for {@code owner} unless another holds an unexpired one; empty when
   * taken already. A claimed source is "syncing" with its page counts reset.
   */
  Future<Optional<WebSource>> claim(UUID tenantId, UUID sourceId, String owner, Duration lease) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE web_sources SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond', "
            + "status = 'syncing', error = NULL, pages_found = 0, pages_done = 0, pages_added = 0, pages_updated = 0, "
            + "pages_unchanged = 0, pages_removed = 0, pages_failed = 0 "
            + "WHERE id = $1 AND (lease_until IS NULL OR lease_until < now()) RETURNING " + COLUMNS)
        .execute(Tuple.of(sourceId, owner, lease.toMillis()))
        .map(rows -> rows.size() == 0 ? Optional.<WebSource>empty() : Optional.of(source(rows.iterator().next()))));
  }

  /** Stores the running counts and extends the lease; false when the lease was lost (another node took it). */
  Future<Boolean> progress(UUID tenantId, UUID sourceId, String owner, Duration lease, SyncTally tally) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE web_sources SET lease_until = now() + $3 * interval '1 millisecond', "
            + "pages_found = $4, pages_done = $5, pages_added = $6, pages_updated = $7, pages_unchanged = $8, "
            + "pages_removed = $9, pages_failed = $10 WHERE id = $1 AND lease_owner = $2")
        .execute(counts(Tuple.of(sourceId, owner, lease.toMillis()), tally))
        .map(rows -> rows.rowCount() > 0));
  }

  /** Ends the sync: final counts and status, the next scheduled sync, the lease released. */
  Future<Void> finish(UUID tenantId, UUID sourceId, String owner, SyncTally tally, String status, String error) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE web_sources SET lease_owner = NULL, lease_until = NULL, "
            + "pages_found = $3, pages_done = $4, pages_added = $5, pages_updated = $6, pages_unchanged = $7, "
            + "pages_removed = $8, pages_failed = $9, status = $10, error = $11, last_synced_at = now(), "
            + "next_sync_at = CASE WHEN sync_interval_minutes IS NULL THEN NULL "
            + "ELSE now() + sync_interval_minutes * interval '1 minute' END WHERE id = $1 AND lease_owner = $2")
        .execute(counts(Tuple.of(sourceId, owner), tally).addString(status).addString(error)).mapEmpty());
  }

  /** The page rows of the source by URL. */
  Future<Map<String, Known>> known(UUID tenantId, UUID sourceId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT p.url, p.document_id, p.content_hash, d.status FROM web_source_pages p "
            + "LEFT JOIN documents d ON d.id = p.document_id WHERE p.source_id = $1")
        .execute(Tuple.of(sourceId))
        .map(rows -> {
          Map<String, Known> known = new HashMap<>();
          rows.forEach(r -> known.put(r.getString(0), new Known(r.getUUID(1), r.getString(2), r.getString(3))));
          return known;
        }));
  }

  /**
   * Records one page. A failed page keeps the document and hash it had: a page that cannot be fetched
   * now keeps what was imported before.
   */
  Future<Void> recordPage(UUID tenantId, UUID sourceId, String url, int depth, String status, String error,
                          UUID documentId, String hash) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("INSERT INTO web_source_pages (tenant_id, source_id, url, depth, status, error, document_id, "
            + "content_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, source_id, url) DO UPDATE "
            + "SET depth = EXCLUDED.depth, status = EXCLUDED.status, error = EXCLUDED.error, fetched_at = now(), "
            + "document_id = coalesce(EXCLUDED.document_id, web_source_pages.document_id), "
            + "content_hash = coalesce(EXCLUDED.content_hash, web_source_pages.content_hash)")
        .execute(Tuple.from(new Object[] {tenantId, sourceId, url, depth, status, error, documentId, hash}))
        .mapEmpty());
  }

  Future<Void> forgetPage(UUID tenantId, UUID sourceId, String url) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("DELETE FROM web_source_pages WHERE source_id = $1 AND url = $2")
        .execute(Tuple.of(sourceId, url)).mapEmpty());
  }

  Future<Page<WebSourcePage>> pages(UUID tenantId, UUID sourceId, UUID after, int limit) {
    return database.inTenant(tenantId, conn -> cursor(conn, "web_source_pages", after)
        .compose(ignored -> conn.preparedQuery("SELECT p.id, p.url, p.depth, p.status, p.error, p.document_id, "
                + "d.status, d.progress, p.fetched_at FROM web_source_pages p LEFT JOIN documents d ON d.id = p.document_id "
                + "WHERE p.source_id = $1 AND ($2::uuid IS NULL OR p.url > (SELECT url FROM web_source_pages WHERE id = $2)) "
                + "ORDER BY p.url LIMIT $3")
            .execute(Tuple.of(sourceId, after, limit + 1))
            .map(rows -> page(rows, limit, r -> new WebSourcePage(r.getUUID(0), r.getString(1), r.getInteger(2),
                r.getString(3), r.getString(4), r.getUUID(5), r.getString(6),
                r.getValue(7) == null ? 0 : r.getFloat(7), r.getOffsetDateTime(8))))));
  }

  /** A source to sync: its tenant and id. */
  record Due(UUID tenantId, UUID sourceId) {
  }

  /**
   * Sources whose scheduled sync is due and not leased, of every tenant, in one statement: read without
   * a tenant through {@code due_web_sources} (V23), which answers ids only.
   */
  Future<List<Due>> due(int limit) {
    return database.global(conn -> conn.preparedQuery("SELECT tenant_id, id FROM due_web_sources($1)")
        .execute(Tuple.of(limit))
        .map(rows -> {
          List<Due> due = new ArrayList<>();
          rows.forEach(r -> due.add(new Due(r.getUUID(0), r.getUUID(1))));
          return due;
        }));
  }

  private static Tuple counts(Tuple tuple, SyncTally t) {
    return tuple.addInteger(t.found()).addInteger(t.done()).addInteger(t.added()).addInteger(t.updated())
        .addInteger(t.unchanged()).addInteger(t.removed()).addInteger(t.failed());
  }

  private static Future<Void> cursor(io.vertx.sqlclient.SqlConnection conn, String table, UUID after) {
    if (after == null) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery("SELECT 1 FROM " + table + " WHERE id = $1").execute(Tuple.of(after))
        .compose(rows -> rows.size() == 0
            ? Future.failedFuture(new RagException(RagError.INVALID_INPUT, "'after' names no item of this list"))
            : Future.succeededFuture());
  }

  private static <T> Page<T> page(RowSet<Row> rows, int limit, Function<Row, T> item) {
    List<T> items = new ArrayList<>();
    for (Row row : rows) {
      if (items.size() < limit) {
        items.add(item.apply(row));
      }
    }
    return new Page<>(items, rows.size() > limit);
  }

  private static RagException notFound(UUID sourceId) {
    return new RagException(RagError.NOT_FOUND, "no web source " + sourceId);
  }

  private static WebSource source(Row r) {
    return new WebSource(r.getUUID("id"), r.getUUID("knowledge_base_id"), r.getString("start_url"),
        r.getBoolean("whole_site"), r.getInteger("max_depth"), r.getInteger("max_pages"),
        r.getInteger("sync_interval_minutes"), r.getString("status"), r.getString("error"),
        r.getInteger("pages_found"), r.getInteger("pages_done"), r.getInteger("pages_added"),
        r.getInteger("pages_updated"), r.getInteger("pages_unchanged"), r.getInteger("pages_removed"),
        r.getInteger("pages_failed"), r.getOffsetDateTime("last_synced_at"), r.getOffsetDateTime("next_sync_at"),
        r.getOffsetDateTime("created_at"));
  }
}
