package ai.deepchat.rag.index;

import io.vertx.core.Future;

import java.util.UUID;

/** The authoritative copy of a knowledge base's vectors (PostgreSQL), for checks and rebuilds. */
interface VectorSource {

  /** All vectors, row-major, with their chunk ids. */
  record Snapshot(long[] ids, float[] vectors) {
  }

  Future<Long> count(UUID tenantId, UUID knowledgeBaseId);

  Future<Snapshot> snapshot(UUID tenantId, UUID knowledgeBaseId, int dimension);
}
