package ai.deepchat.rag.index;

import io.vertx.core.Future;

import java.util.UUID;

/** The authoritative copy of a knowledge base's vectors (PostgreSQL), for checks and rebuilds. */
interface VectorSource {

  /** All vectors, row-major, with their chunk ids. */
  record Snapshot(long[] ids, float[] vectors) {
  }

  /** Vectors of {@code model}: the knowledge base's own, or those of the re-embedding into it. */
  Future<Long> count(UUID tenantId, UUID knowledgeBaseId, String model);

  Future<Snapshot> snapshot(UUID tenantId, UUID knowledgeBaseId, String model, int dimension);
}
