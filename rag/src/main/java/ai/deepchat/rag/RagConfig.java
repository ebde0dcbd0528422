package ai.deepchat.rag;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of the RAG module, parsed once at start.
 *
 * @param dataDir        FAISS indexes live under {@code <dataDir>/faiss/<tenantId>/<kbId>.index}
 * @param maxUploadBytes larger uploads are refused before any parsing
 * @param chunkTokens    token budget of one chunk (bge-small reads at most 512 tokens)
 * @param overlapTokens  prose carried from one chunk into the next, so a split sentence keeps context
 * @param embedBatch     chunks embedded per model call; progress is reported per batch
 * @param indexFactory   FAISS factory string of knowledge-base indexes ("Flat" is exact and removable)
 * @param ingestWorkers  documents ingested at once per node (tenants take turns; see TenantFairQueue)
 */
public record RagConfig(Path dataDir, long maxUploadBytes, int chunkTokens, int overlapTokens,
                        int embedBatch, String indexFactory, int ingestWorkers) {

  public static final long DEFAULT_MAX_UPLOAD_BYTES = 20L * 1024 * 1024;
  public static final int DEFAULT_INGEST_WORKERS = 2;

  public RagConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(indexFactory, "indexFactory");
    if (maxUploadBytes <= 0 || chunkTokens < 32 || overlapTokens < 0 || overlapTokens >= chunkTokens
        || embedBatch <= 0 || ingestWorkers < 1 || ingestWorkers > 64) {
      throw new IllegalArgumentException("invalid RAG settings: " + maxUploadBytes + " bytes, "
          + chunkTokens + "/" + overlapTokens + " tokens, batch " + embedBatch + ", " + ingestWorkers + " ingest workers");
    }
  }

  public static RagConfig defaults(Path dataDir) {
    return new RagConfig(dataDir, DEFAULT_MAX_UPLOAD_BYTES, 320, 48, 16, "Flat", DEFAULT_INGEST_WORKERS);
  }

  /**
   * From the "rag" object of the platform configuration; absent keys keep their defaults:
   * {@code {"dataDir", "maxUploadBytes", "chunkTokens", "overlapTokens", "embedBatch", "indexFactory",
   * "ingestWorkers"}}.
   */
  public static RagConfig fromJson(JsonObject json, Path defaultDataDir) {
    RagConfig d = defaults(Path.of(json.getString("dataDir", defaultDataDir.toString())));
    return new RagConfig(d.dataDir(), json.getLong("maxUploadBytes", d.maxUploadBytes()),
        json.getInteger("chunkTokens", d.chunkTokens()),
        json.getInteger("overlapTokens", d.overlapTokens()),
        json.getInteger("embedBatch", d.embedBatch()),
        json.getString("indexFactory", d.indexFactory()),
        json.getInteger("ingestWorkers", d.ingestWorkers()));
  }

  public RagConfig withMaxUploadBytes(long bytes) {
    return new RagConfig(dataDir, bytes, chunkTokens, overlapTokens, embedBatch, indexFactory, ingestWorkers);
  }

  public RagConfig withIngestWorkers(int workers) {
    return new RagConfig(dataDir, maxUploadBytes, chunkTokens, overlapTokens, embedBatch, indexFactory, workers);
  }
}
