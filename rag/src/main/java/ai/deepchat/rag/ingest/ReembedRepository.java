package ai.deepchat.rag.ingest;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * SQL of re-embeddings (V24), under the tenant's row-level security. Writes of a knowledge base's chunks
 * take its row lock first, as ingestion's do ({@link DocumentRepository#lockKnowledgeBase}).
 */
final class ReembedRepository {

  /** A running job whose heartbeat is older than this died with its node; another node resumes it. */
  static final String STALE = "interval '30 seconds'";
  private static final String RUNNING = "reembed_status = 'running' AND reembed_model = $2";

  /** A chunk to embed: its id and the text the model sees ({@link Chunk#embeddingText}). */
  record Pending(long id, String text) {
  }

  /** A running job whose node stopped, taken over by this one. */
  record Orphan(UUID knowledgeBaseId, String model) {
  }

  /**
   * What a switch found: {@code more} chunks still to embed, or {@code stopped} (the knowledge base's
   * model in {@code oldModel}, null when it was deleted), or {@code held} for the caller's switch
   * ("ready"), or the model replaced ({@code oldModel}).
   */
  record Switch(boolean more, boolean stopped, boolean held, String oldModel) {
  }

  private final Database database;

  ReembedRepository(Database database) {
    this.database = database;
  }

  /** Marks the re-embedding into {@code model} running, forgetting what an earlier one left. */
  Future<Void> start(UUID tenantId, UUID knowledgeBaseId, String model, boolean autoSwitch) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT embedding_model, reembed_status FROM knowledge_bases WHERE id = $1 FOR UPDATE")
        .execute(Tuple.of(knowledgeBaseId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new RagException(RagError.NOT_FOUND,
                "knowledge base not found: " + knowledgeBaseId));
          }
          Row row = rows.iterator().next();
          if (model.equals(row.getString(0))) {
            return Future.failedFuture(new RagException(RagError.INVALID_INPUT,
                "the knowledge base uses " + model + " already"));
          }
          if ("running".equals(row.getString(1)) || "ready".equals(row.getString(1))) {
            return Future.failedFuture(new RagException(RagError.REEMBED_RUNNING,
                "the knowledge base is being re-embedded; cancel that first"));
          }
          return clearPending(conn, knowledgeBaseId).compose(ignored -> conn.preparedQuery(
                  "UPDATE knowledge_bases SET reembed_model = $2, reembed_status = 'running', reembed_done = 0, "
                      + "reembed_total = (SELECT count(*) FROM chunks WHERE knowledge_base_id = $1), "
                      + "reembed_error = NULL, reembed_heartbeat = now(), reembed_auto_switch = $3 WHERE id = $1")
              .execute(Tuple.of(knowledgeBaseId, model, autoSwitch)).mapEmpty());
        }));
  }

  /**
   * The next chunks without a vector of {@code model}, renewing the heartbeat; null when the job is not
   * running any more (cancelled, or the knowledge base deleted).
   */
  Future<List<Pending>> next(UUID tenantId, UUID knowledgeBaseId, String model, int limit) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE knowledge_bases SET reembed_heartbeat = now() WHERE id = $1 AND " + RUNNING)
        .execute(Tuple.of(knowledgeBaseId, model))
        .compose(running -> running.rowCount() == 0 ? Future.succeededFuture(null) : conn
            .preparedQuery("SELECT id, section_path, text FROM chunks WHERE knowledge_base_id = $1 "
                + "AND pending_embedding IS NULL ORDER BY id LIMIT $2")
            .execute(Tuple.of(knowledgeBaseId, limit))
            .map(rows -> {
              List<Pending> out = new ArrayList<>(rows.size());
              rows.forEach(r -> out.add(new Pending(r.getLong(0),
                  Chunk.embeddingText(r.getString(1), r.getString(2)))));
              return out;
            })));
  }

  /** Stores the vectors of {@code model} and the progress; nothing when the job stopped meanwhile. */
  Future<Void> store(UUID tenantId, UUID knowledgeBaseId, String model, List<Pending> chunks,
                     List<float[]> vectors) {
    List<Tuple> batch = new ArrayList<>(chunks.size());
    for (int i = 0; i < chunks.size(); i++) {
      batch.add(Tuple.of(chunks.get(i).id(), Vectors.encode(vectors.get(i)), knowledgeBaseId));
    }
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT 1 FROM knowledge_bases WHERE id = $1 AND " + RUNNING + " FOR NO KEY UPDATE")
        .execute(Tuple.of(knowledgeBaseId, model))
        .compose(running -> running.size() == 0 ? Future.succeededFuture() : conn
            .preparedQuery("UPDATE chunks SET pending_embedding = $2 WHERE id = $1 AND knowledge_base_id = $3")
            .executeBatch(batch)
            .compose(ignored -> conn.preparedQuery("UPDATE knowledge_bases SET reembed_done = (SELECT count(*) "
                    + "FROM chunks WHERE knowledge_base_id = $1 AND pending_embedding IS NOT NULL), "
                    + "reembed_total = (SELECT count(*) FROM chunks WHERE knowledge_base_id = $1) WHERE id = $1")
                .execute(Tuple.of(knowledgeBaseId)))
            .mapEmpty()));
  }

  /**
   * In one transaction, when every chunk has its vector of {@code model}: those vectors become the
   * chunks' embeddings and {@code model} the knowledge base's. Searches see either the old model with
   * the old vectors or the new with the new.
   */
  Future<Switch> switchModel(UUID tenantId, UUID knowledgeBaseId, String model) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT embedding_model, reembed_auto_switch FROM knowledge_bases WHERE id = $1 AND "
            + RUNNING + " FOR UPDATE")
        .execute(Tuple.of(knowledgeBaseId, model))
        .compose(running -> {
          if (running.size() == 0) {
            return conn.preparedQuery("SELECT embedding_model FROM knowledge_bases WHERE id = $1")
                .execute(Tuple.of(knowledgeBaseId))
                .map(kb -> new Switch(false, true, false, kb.size() == 0 ? null : kb.iterator().next().getString(0)));
          }
          String oldModel = running.iterator().next().getString(0);
          if (!running.iterator().next().getBoolean(1)) {
            return conn.preparedQuery("UPDATE knowledge_bases SET reembed_status = 'ready', reembed_heartbeat = NULL "
                + "WHERE id = $1").execute(Tuple.of(knowledgeBaseId)).map(held -> new Switch(false, false, true, null));
          }
          return conn.preparedQuery("SELECT count(*) FROM chunks WHERE knowledge_base_id = $1 "
                  + "AND pending_embedding IS NULL").execute(Tuple.of(knowledgeBaseId))
              .compose(missing -> missing.iterator().next().getLong(0) > 0
                  ? Future.succeededFuture(new Switch(true, false, false, null))
                  : conn.preparedQuery("UPDATE chunks SET embedding = pending_embedding, pending_embedding = NULL "
                          + "WHERE knowledge_base_id = $1").execute(Tuple.of(knowledgeBaseId))
                      .compose(ignored -> conn.preparedQuery("UPDATE knowledge_bases SET embedding_model = $2, "
                              + "reembed_status = 'done', reembed_done = reembed_total, reembed_heartbeat = NULL, "
                              + "version = version + 1, updated_at = now() WHERE id = $1")
                          .execute(Tuple.of(knowledgeBaseId, model)))
                      .map(ignored -> new Switch(false, false, false, oldModel)));
        }));
  }

  /**
   * Ends the running job as "failed" or "cancelled" and drops its vectors, the knowledge base keeping
   * its model; the model of the job ended, or null when none was running.
   */
  Future<String> stop(UUID tenantId, UUID knowledgeBaseId, String status, String error) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE knowledge_bases SET reembed_status = $2, reembed_error = $3, reembed_heartbeat = NULL "
            + "WHERE id = $1 AND reembed_status IN ('running', 'ready') RETURNING reembed_model")
        .execute(Tuple.of(knowledgeBaseId, status, error))
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture(null)
            : clearPending(conn, knowledgeBaseId).map(ignored -> rows.iterator().next().getString(0))));
  }

  /**
   * Resumes a "ready" job with the switch allowed: it embeds what was ingested since and switches. The
   * job's model, or null when none was ready.
   */
  Future<String> allowSwitch(UUID tenantId, UUID knowledgeBaseId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE knowledge_bases SET reembed_status = 'running', reembed_auto_switch = true, "
            + "reembed_heartbeat = now() WHERE id = $1 AND reembed_status = 'ready' RETURNING reembed_model")
        .execute(Tuple.of(knowledgeBaseId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0)));
  }

  /** Leaves the job to the next node that starts (this one is shutting down). */
  Future<Void> release(UUID tenantId, UUID knowledgeBaseId, String model) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("UPDATE knowledge_bases SET reembed_heartbeat = NULL WHERE id = $1 AND " + RUNNING)
        .execute(Tuple.of(knowledgeBaseId, model)).mapEmpty());
  }

  /** Tenants, for the scan at start (the directory is global). */
  Future<List<UUID>> tenants() {
    return database.global(conn -> conn.query("SELECT id FROM tenants ORDER BY id").execute()
        .map(rows -> {
          List<UUID> out = new ArrayList<>(rows.size());
          rows.forEach(r -> out.add(r.getUUID(0)));
          return out;
        }));
  }

  /** Takes over the tenant's running jobs whose node stopped. */
  Future<List<Orphan>> claimOrphans(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn
        .query("UPDATE knowledge_bases SET reembed_heartbeat = now() WHERE reembed_status = 'running' "
            + "AND (reembed_heartbeat IS NULL OR reembed_heartbeat < now() - " + STALE + ") "
            + "RETURNING id, reembed_model")
        .execute()
        .map(rows -> {
          List<Orphan> out = new ArrayList<>(rows.size());
          rows.forEach(r -> out.add(new Orphan(r.getUUID(0), r.getString(1))));
          return out;
        }));
  }

  private static Future<Void> clearPending(SqlConnection conn, UUID knowledgeBaseId) {
    return conn.preparedQuery("UPDATE chunks SET pending_embedding = NULL WHERE knowledge_base_id = $1 "
        + "AND pending_embedding IS NOT NULL").execute(Tuple.of(knowledgeBaseId)).mapEmpty();
  }
}
