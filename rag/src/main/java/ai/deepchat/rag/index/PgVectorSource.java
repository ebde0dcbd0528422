package ai.deepchat.rag.index;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Vectors;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/** Stored chunk embeddings, read under the tenant's row-level security. */
public final class PgVectorSource implements VectorSource {

  private final Database database;

  public PgVectorSource(Database database) {
    this.database = database;
  }

  @Override
  public Future<Long> count(UUID tenantId, UUID knowledgeBaseId) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT count(*) FROM chunks WHERE knowledge_base_id = $1 AND embedding IS NOT NULL")
        .execute(Tuple.of(knowledgeBaseId))
        .map(rows -> rows.iterator().next().getLong(0)));
  }

  @Override
  public Future<Snapshot> snapshot(UUID tenantId, UUID knowledgeBaseId, int dimension) {
    return database.inTenant(tenantId, conn -> conn
        .preparedQuery("SELECT id, embedding FROM chunks "
            + "WHERE knowledge_base_id = $1 AND embedding IS NOT NULL ORDER BY id")
        .execute(Tuple.of(knowledgeBaseId))
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
          return new Snapshot(java.util.Arrays.copyOf(ids, i),
              java.util.Arrays.copyOf(vectors, i * dimension));
        }));
  }
}
