package ai.deepchat.rag.index;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Vectors;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.Arrays;
import java.util.UUID;

/**
 * Stored chunk embeddings, read under the tenant's row-level security: {@code embedding} for the
 * knowledge base's model, {@code pending_embedding} for the model a re-embedding is moving it to.
 */
public final class PgVectorSource implements VectorSource {

  // $1 knowledge base, $2 model; no rows for a model the knowledge base neither has nor is moving to
  private static final String VECTORS = "SELECT c.id, CASE WHEN k.embedding_model = $2 THEN c.embedding "
      + "ELSE c.pending_embedding END AS v FROM chunks c JOIN knowledge_bases k ON k.id = c.knowledge_base_id "
      + "WHERE c.knowledge_base_id = $1 AND (k.embedding_model = $2 OR k.reembed_model = $2)";

  private final Database database;

  public PgVectorSource(Database database) {
    this.database = database;
  }

  @Override
  public Future<Long> count(UUID tenantId, UUID knowledgeBaseId, String model) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT count(*) FROM (" + VECTORS + ") s WHERE v IS NOT NULL")
        .execute(Tuple.of(knowledgeBaseId, model))
        .map(rows -> rows.iterator().next().getLong(0)));
  }

  @Override
  public Future<Snapshot> snapshot(UUID tenantId, UUID knowledgeBaseId, String model, int dimension) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT id, v FROM (" + VECTORS + ") s WHERE v IS NOT NULL ORDER BY id")
        .execute(Tuple.of(knowledgeBaseId, model))
        .map(rows -> {
          long[] ids = new long[rows.size()];
          float[] vectors = new float[rows.size() * dimension];
          int i = 0;
          for (Row row : rows) {
            float[] v = Vectors.decode(row.getBuffer(1));
            if (v.length != dimension) {
              // written by another model: skip rather than poison the index
              continue;
            }
            ids[i] = row.getLong(0);
            System.arraycopy(v, 0, vectors, i * dimension, dimension);
            i++;
          }
          return new Snapshot(Arrays.copyOf(ids, i), Arrays.copyOf(vectors, i * dimension));
        }));
  }
}
