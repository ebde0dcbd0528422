package ai.deepchat.rag.retrieve;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.ingest.MarkdownChunker;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** SQL of retrieval, always under the tenant's row-level security and filtered by knowledge base. */
final class ChunkSearch {

  record Scored(long chunkId, double score) {
  }

  /**
   * @param sectionPath the chunk's headings, then its page when it has one ("Setup > p. 3")
   * @param english     its bge-small-en vector (EnglishVectors), or null
   */
  record Stored(long chunkId, UUID documentId, String title, String sectionPath, String text, float[] english) {
  }

  private final Database database;

  ChunkSearch(Database database) {
    this.database = database;
  }

  /**
   * Full-text hits, best first (ts_rank over English lexemes and CJK bigrams).
   */
  Future<List<Scored>> lexical(UUID tenantId, UUID knowledgeBaseId, LexicalQuery query, int limit) {
    if (query.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<Object> params = new ArrayList<>(List.of(knowledgeBaseId, limit));
    List<String> parts = new ArrayList<>();
    if (!query.words().isEmpty()) {
      params.add(query.words());
      parts.add("to_tsquery('english', $" + params.size() + ")");
    }
    if (!query.bigrams().isEmpty()) {
      params.add(query.bigrams());
      // sent as text: the client cannot encode a tsquery parameter
      parts.add("$" + params.size() + "::text::tsquery");
    }
    // V48's function plans for this question's terms (a cached generic plan read every chunk)
    String sql = "SELECT id, rank FROM chunk_lexical_hits($1, " + String.join(" || ", parts) + ", $2)";
    return database.inTenant(tenantId, conn -> conn.preparedQuery(sql)
        .execute(Tuple.from(params))
        .map(rows -> {
          List<Scored> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(new Scored(row.getLong(0), row.getFloat(1)));
          }
          return out;
        }));
  }

  /**
   * The stored chunks among {@code ids} that belong to this tenant's knowledge base. Vector hits come
   * from an index outside RLS, so only what this returns may be shown.
   */
  Future<Map<Long, Stored>> load(UUID tenantId, UUID knowledgeBaseId, List<Long> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT c.id, c.document_id, d.title, c.section_path, c.text, c.location, c.embedding_en "
            + "FROM chunks c JOIN documents d ON d.id = c.document_id "
            + "WHERE c.knowledge_base_id = $1 AND c.id = ANY($2)")
        .execute(Tuple.tuple().addUUID(knowledgeBaseId).addArrayOfLong(ids.toArray(new Long[0])))
        .map(rows -> {
          Map<Long, Stored> out = new HashMap<>();
          for (Row row : rows) {
            out.put(row.getLong(0), new Stored(row.getLong(0), row.getUUID(1), row.getString(2),
                located(row.getString(3), row.getString(5)), row.getString(4),
                row.getBuffer(6) == null ? null : Vectors.decode(row.getBuffer(6))));
          }
          return out;
        }));
  }

  // The page ("p. 3") ends the section path shown in citations, so the event-bus contract and every
  // consumer of it (prompt, widget, console) name the page without a field of their own.
  static String located(String sectionPath, String location) {
    if (location == null || location.isEmpty()) {
      return sectionPath;
    }
    return sectionPath.isEmpty() ? location : sectionPath + MarkdownChunker.PATH_SEPARATOR + location;
  }
}
