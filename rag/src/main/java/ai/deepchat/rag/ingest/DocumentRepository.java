package ai.deepchat.rag.ingest;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.SqlStates;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBase;
import ai.deepchat.rag.KnowledgeBaseChange;
import ai.deepchat.rag.Page;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Reembedding;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/** SQL of knowledge bases, documents and chunks; every statement runs under the tenant's RLS. */
final class DocumentRepository {

  private static final String DOCUMENT_COLUMNS = "id, knowledge_base_id, title, source_name, "
      + "content_type, size_bytes, status, progress, error, chunk_count";
  private static final String KB_COLUMNS = "id, name, description, embedding_model, version, "
      + "(id = (SELECT default_knowledge_base_id FROM tenant_settings)) IS TRUE AS answers_chat, "
      + "reembed_model, reembed_status, reembed_done, reembed_total, reembed_error, reembed_auto_switch";

  /** What accepting an upload found: the stored row, and whether it already holds this content. */
  record Accepted(DocumentStatus document, boolean unchanged) {
  }

  /** The outcome of replacing a document's chunks; {@code superseded} when a newer upload won. */
  record Replaced(long[] oldIds, long[] newIds, boolean superseded) {
  }

  /** The knowledge base switched embedding model while the document was embedded with the old one. */
  static final class ModelChanged extends RuntimeException {
    ModelChanged() {
      super("the knowledge base changed embedding model during ingestion", null, false, false);
    }
  }

  private final Database database;

  DocumentRepository(Database database) {
    this.database = database;
  }

  Future<KnowledgeBase> createKnowledgeBase(UUID tenantId, String name, String description,
                                            String model) {
    return database.inTenant(tenantId, conn -> conn
            .preparedQuery("INSERT INTO knowledge_bases (tenant_id, name, description, embedding_model) "
                + "VALUES ($1, $2, $3, $4) RETURNING " + KB_COLUMNS)
            .execute(Tuple.of(tenantId, name, description, model))
            .map(rows -> knowledgeBase(rows.iterator().next())))
        .recover(failure -> SqlStates.isUniqueViolation(failure)
            ? Future.failedFuture(new RagException(RagError.CONFLICT,
                "a knowledge base named '" + name + "' exists already"))
            : Future.failedFuture(failure));
  }

  Future<List<KnowledgeBase>> listKnowledgeBases(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn
        .query("SELECT " + KB_COLUMNS + " FROM knowledge_bases ORDER BY name").execute()
        .map(rows -> {
          List<KnowledgeBase> out = new ArrayList<>();
          rows.forEach(row -> out.add(knowledgeBase(row)));
          return out;
        }));
  }

  /** One page of knowledge bases by name then id; an {@code after} this tenant lacks is refused. */
  Future<Page<KnowledgeBase>> listKnowledgeBases(UUID tenantId, UUID after, int limit) {
    return database.inTenant(tenantId, conn -> cursor(conn, after, "SELECT 1 FROM knowledge_bases WHERE id = $1",
            Tuple.of(after))
        .compose(ignored -> conn.preparedQuery("SELECT " + KB_COLUMNS + " FROM knowledge_bases "
                + "WHERE $1::uuid IS NULL OR (name, id) > (SELECT name, id FROM knowledge_bases WHERE id = $1) "
                + "ORDER BY name, id LIMIT $2")
            .execute(Tuple.of(after, limit + 1))
            .map(rows -> page(rows, limit, DocumentRepository::knowledgeBase))));
  }

  /** Renames, describes and (un)sets as the tenant's answering knowledge base, in one transaction. */
  Future<KnowledgeBase> updateKnowledgeBase(UUID tenantId, UUID knowledgeBaseId, KnowledgeBaseChange change) {
    return database.inTenant(tenantId, conn -> conn
            .preparedQuery("UPDATE knowledge_bases SET name = coalesce($2, name), "
                + "description = coalesce($3, description), updated_at = now() WHERE id = $1 RETURNING id")
            .execute(Tuple.of(knowledgeBaseId, change.name(), change.description()))
            .compose(rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(notFound(knowledgeBaseId));
              }
              if (change.answersChat() == null) {
                return Future.succeededFuture();
              }
              return (change.answersChat()
                  ? conn.preparedQuery("INSERT INTO tenant_settings (tenant_id, default_knowledge_base_id) "
                      + "VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET default_knowledge_base_id = $2, "
                      + "updated_at = now()").execute(Tuple.of(tenantId, knowledgeBaseId))
                  : conn.preparedQuery("UPDATE tenant_settings SET default_knowledge_base_id = NULL, "
                      + "updated_at = now() WHERE default_knowledge_base_id = $1")
                      .execute(Tuple.of(knowledgeBaseId))).mapEmpty();
            })
            .compose(ignored -> conn.preparedQuery("SELECT " + KB_COLUMNS + " FROM knowledge_bases WHERE id = $1")
                .execute(Tuple.of(knowledgeBaseId)))
            .map(rows -> knowledgeBase(rows.iterator().next())))
        .recover(failure -> SqlStates.isUniqueViolation(failure)
            ? Future.failedFuture(new RagException(RagError.CONFLICT,
                "a knowledge base named '" + change.name() + "' exists already"))
            : Future.failedFuture(failure));
  }

  /** Deletes the knowledge base; its documents and chunks go with it (ON DELETE CASCADE). */
  Future<Void> deleteKnowledgeBase(UUID tenantId, UUID knowledgeBaseId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("DELETE FROM knowledge_bases WHERE id = $1").execute(Tuple.of(knowledgeBaseId))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound(knowledgeBaseId))
            : Future.succeededFuture()));
  }

  Future<KnowledgeBase> knowledgeBase(UUID tenantId, UUID knowledgeBaseId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT " + KB_COLUMNS + " FROM knowledge_bases WHERE id = $1")
        .execute(Tuple.of(knowledgeBaseId))
        .map(rows -> {
          if (rows.size() == 0) {
            throw notFound(knowledgeBaseId);
          }
          return knowledgeBase(rows.iterator().next());
        }));
  }

  /** Creates the document row, or resets an existing one of the same source name to pending. */
  Future<Accepted> accept(UUID tenantId, UUID knowledgeBaseId, String sourceName, String title,
                          SourceFormat format, String hash, long size) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT " + DOCUMENT_COLUMNS + ", content_hash FROM documents "
            + "WHERE knowledge_base_id = $1 AND source_name = $2 FOR UPDATE")
        .execute(Tuple.of(knowledgeBaseId, sourceName))
        .compose(existing -> {
          if (existing.size() > 0) {
            Row row = existing.iterator().next();
            if (hash.equals(row.getString("content_hash")) && "ready".equals(row.getString("status"))) {
              return Future.succeededFuture(new Accepted(document(row), true));
            }
          }
          return conn.preparedQuery("INSERT INTO documents (tenant_id, knowledge_base_id, title, "
                  + "source_name, content_type, content_hash, size_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                  + "ON CONFLICT (tenant_id, knowledge_base_id, source_name) DO UPDATE SET "
                  + "content_type = EXCLUDED.content_type, content_hash = EXCLUDED.content_hash, "
                  + "size_bytes = EXCLUDED.size_bytes, status = 'pending', progress = 0, error = NULL, "
                  + "updated_at = now() RETURNING " + DOCUMENT_COLUMNS)
              .execute(Tuple.of(tenantId, knowledgeBaseId, title, sourceName, format.contentType(),
                  hash, size))
              .map(rows -> new Accepted(document(rows.iterator().next()), false));
        }));
  }

  Future<Void> progress(UUID tenantId, UUID documentId, String hash, double progress) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE documents SET status = 'processing', progress = $3, updated_at = now() "
            + "WHERE id = $1 AND content_hash = $2")
        .execute(Tuple.of(documentId, hash, (float) progress)).mapEmpty());
  }

  Future<Void> fail(UUID tenantId, UUID documentId, String hash, String error) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE documents SET status = 'failed', error = $3, updated_at = now() "
            + "WHERE id = $1 AND content_hash = $2")
        .execute(Tuple.of(documentId, hash, error)).mapEmpty());
  }

  /**
   * In one transaction: drops the document's old chunks, stores the new ones with their embeddings,
   * marks the document ready and bumps the knowledge base's version. Nothing changes when a newer
   * upload of the same document (another content hash) arrived meanwhile. Fails with {@link ModelChanged}
   * when the vectors are not of the knowledge base's model any more (a re-embedding switched it).
   */
  Future<Replaced> replaceChunks(UUID tenantId, UUID knowledgeBaseId, UUID documentId, String hash,
                                 String model, ParsedDocument parsed, List<float[]> vectors, List<float[]> english) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT id FROM documents WHERE id = $1 AND content_hash = $2 FOR UPDATE")
        .execute(Tuple.of(documentId, hash))
        .compose(current -> {
          if (current.size() == 0) {
            return Future.succeededFuture(new Replaced(new long[0], new long[0], true));
          }
          return lockKnowledgeBase(conn, knowledgeBaseId).compose(kbModel -> {
            if (!model.equals(kbModel)) {
              return Future.failedFuture(new ModelChanged());
            }
            return Future.<Void>succeededFuture();
          }).compose(locked -> deleteChunks(conn, documentId)).compose(oldIds -> insertChunks(conn, tenantId,
                  knowledgeBaseId, documentId, parsed.chunks(), vectors, english)
              .compose(newIds -> conn.preparedQuery("UPDATE documents SET status = 'ready', "
                      + "progress = 1, error = NULL, chunk_count = $2, title = $3, updated_at = now() "
                      + "WHERE id = $1")
                  .execute(Tuple.of(documentId, newIds.length, parsed.title()))
                  .compose(ignored -> bumpVersion(conn, knowledgeBaseId))
                  .map(ignored -> new Replaced(oldIds, newIds, false))));
        }));
  }

  /** Deletes the document and its chunks; returns the ids of the chunks removed. */
  Future<long[]> delete(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT id FROM documents WHERE id = $1 AND knowledge_base_id = $2 FOR UPDATE")
        .execute(Tuple.of(documentId, knowledgeBaseId))
        .compose(found -> {
          if (found.size() == 0) {
            return Future.failedFuture(new RagException(RagError.NOT_FOUND,
                "document not found: " + documentId));
          }
          return lockKnowledgeBase(conn, knowledgeBaseId)
              .compose(locked -> deleteChunks(conn, documentId))
              .compose(ids -> conn.preparedQuery("DELETE FROM documents WHERE id = $1")
                  .execute(Tuple.of(documentId))
                  .compose(ignored -> bumpVersion(conn, knowledgeBaseId))
                  .map(ignored -> ids));
        }));
  }

  Future<List<DocumentStatus>> listDocuments(UUID tenantId, UUID knowledgeBaseId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT " + DOCUMENT_COLUMNS + " FROM documents WHERE knowledge_base_id = $1 "
            + "ORDER BY source_name")
        .execute(Tuple.of(knowledgeBaseId))
        .map(rows -> {
          List<DocumentStatus> out = new ArrayList<>();
          rows.forEach(row -> out.add(document(row)));
          return out;
        }));
  }

  /** One page of a knowledge base's documents by source name then id, optionally of one status. */
  Future<Page<DocumentStatus>> listDocuments(UUID tenantId, UUID knowledgeBaseId, UUID after, int limit,
                                             String status) {
    return database.inTenant(tenantId, conn -> cursor(conn, after,
            "SELECT 1 FROM documents WHERE id = $1 AND knowledge_base_id = $2", Tuple.of(after, knowledgeBaseId))
        .compose(ignored -> conn.preparedQuery("SELECT " + DOCUMENT_COLUMNS + " FROM documents "
                + "WHERE knowledge_base_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL "
                + "OR (source_name, id) > (SELECT source_name, id FROM documents WHERE id = $3)) "
                + "ORDER BY source_name, id LIMIT $4")
            .execute(Tuple.of(knowledgeBaseId, status, after, limit + 1))
            .map(rows -> page(rows, limit, DocumentRepository::document))));
  }

  Future<DocumentStatus> document(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT " + DOCUMENT_COLUMNS + " FROM documents "
            + "WHERE id = $1 AND knowledge_base_id = $2")
        .execute(Tuple.of(documentId, knowledgeBaseId))
        .map(rows -> {
          if (rows.size() == 0) {
            throw new RagException(RagError.NOT_FOUND, "document not found: " + documentId);
          }
          return document(rows.iterator().next());
        }));
  }

  private static Future<long[]> deleteChunks(SqlConnection conn, UUID documentId) {
    return conn.preparedQuery("DELETE FROM chunks WHERE document_id = $1 RETURNING id")
        .execute(Tuple.of(documentId))
        .map(DocumentRepository::ids);
  }

  private static Future<long[]> insertChunks(SqlConnection conn, UUID tenantId, UUID knowledgeBaseId,
                                             UUID documentId, List<Chunk> chunks,
                                             List<float[]> vectors, List<float[]> english) {
    List<Tuple> batch = new ArrayList<>(chunks.size());
    for (int i = 0; i < chunks.size(); i++) {
      Chunk chunk = chunks.get(i);
      batch.add(Tuple.of(tenantId, knowledgeBaseId, documentId, chunk.ordinal(), chunk.sectionPath(),
          chunk.text(), chunk.tokenCount(), Vectors.encode(vectors.get(i))).addString(chunk.location())
          .addBuffer(english.get(i) == null ? null : Vectors.encode(english.get(i))));
    }
    return conn.preparedQuery("INSERT INTO chunks (tenant_id, knowledge_base_id, document_id, ordinal, "
            + "section_path, text, token_count, embedding, location, embedding_en) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            + "RETURNING id")
        .executeBatch(batch)
        .map(first -> {
          long[] ids = new long[chunks.size()];
          int i = 0;
          for (RowSet<Row> rows = first; rows != null; rows = rows.next()) {
            for (Row row : rows) {
              ids[i++] = row.getLong(0);
            }
          }
          return ids;
        });
  }

  /**
   * Locks the knowledge base's row and returns its embedding model. Every change of its chunks takes
   * this lock (after the document's, before the chunks'), so a re-embedding's switch, which takes it
   * first, never interleaves with one and never deadlocks with one.
   */
  static Future<String> lockKnowledgeBase(SqlConnection conn, UUID knowledgeBaseId) {
    return conn.preparedQuery("SELECT embedding_model FROM knowledge_bases WHERE id = $1 FOR NO KEY UPDATE")
        .execute(Tuple.of(knowledgeBaseId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }

  private static Future<Void> bumpVersion(SqlConnection conn, UUID knowledgeBaseId) {
    return conn.preparedQuery("UPDATE knowledge_bases SET version = version + 1, updated_at = now() "
        + "WHERE id = $1").execute(Tuple.of(knowledgeBaseId)).mapEmpty();
  }

  // The row a page continues after must exist (in this tenant): a stale cursor is an error, not an empty page.
  private static Future<Void> cursor(SqlConnection conn, UUID after, String exists, Tuple args) {
    if (after == null) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery(exists).execute(args)
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(new RagException(RagError.INVALID_INPUT,
            "after: no such item " + after)) : Future.succeededFuture());
  }

  private static <T> Page<T> page(RowSet<Row> rows, int limit, Function<Row, T> map) {
    List<T> items = new ArrayList<>();
    for (Row row : rows) {
      if (items.size() < limit) {
        items.add(map.apply(row));
      }
    }
    return new Page<>(items, rows.size() > limit);
  }

  private static RagException notFound(UUID knowledgeBaseId) {
    return new RagException(RagError.NOT_FOUND, "knowledge base not found: " + knowledgeBaseId);
  }

  private static long[] ids(RowSet<Row> rows) {
    long[] ids = new long[rows.size()];
    int i = 0;
    for (Row row : rows) {
      ids[i++] = row.getLong(0);
    }
    return ids;
  }

  private static KnowledgeBase knowledgeBase(Row row) {
    String target = row.getString("reembed_model");
    Reembedding reembedding = target == null ? null : new Reembedding(target, row.getString("reembed_status"),
        row.getInteger("reembed_done"), row.getInteger("reembed_total"), row.getString("reembed_error"),
        row.getBoolean("reembed_auto_switch"));
    return new KnowledgeBase(row.getUUID("id"), row.getString("name"), row.getString("description"),
        row.getString("embedding_model"), row.getLong("version"), row.getBoolean("answers_chat"), reembedding);
  }

  private static DocumentStatus document(Row row) {
    return new DocumentStatus(row.getUUID("id"), row.getUUID("knowledge_base_id"),
        row.getString("title"), row.getString("source_name"), row.getString("content_type"),
        row.getLong("size_bytes"), row.getString("status"), row.getFloat("progress"),
        row.getString("error"), row.getInteger("chunk_count"));
  }
}
