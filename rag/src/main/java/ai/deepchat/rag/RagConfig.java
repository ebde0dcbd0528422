package ai.deepchat.rag;

import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
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
 * @param parseTimeout   wall-clock budget to convert and chunk one document; one that overruns it
 *                       fails with a message saying so (a backstop: parsing is linear in the text)
 */
public record RagConfig(Path dataDir, long maxUploadBytes, int chunkTokens, int overlapTokens,
                        int embedBatch, String indexFactory, int ingestWorkers, Duration parseTimeout) {

  /** Uploads are streamed to disk, so the limit bounds disk and parsing time, not the heap. */
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 100L * 1024 * 1024;
  public static final int DEFAULT_INGEST_WORKERS = 2;
  /** Five to ten times what chunking a 20 MB Markdown upload took on one loaded core (5 to 12 s). */
  public static final Duration DEFAULT_PARSE_TIMEOUT = Duration.ofSeconds(60);

  public RagConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(indexFactory, "indexFactory");
    Objects.requireNonNull(parseTimeout, "parseTimeout");
    if (maxUploadBytes <= 0 || chunkTokens < 32 || overlapTokens < 0 || overlapTokens >= chunkTokens
        || embedBatch <= 0 || ingestWorkers < 1 || ingestWorkers > 64 || parseTimeout.isNegative()
        || parseTimeout.isZero()) {
      throw new IllegalArgumentException("invalid RAG settings: " + maxUploadBytes + " bytes, "
          + chunkTokens + "/" + overlapTokens + " tokens, batch " + embedBatch + ", " + ingestWorkers
          + " ingest workers, parse timeout " + parseTimeout);
    }
  }

  public static RagConfig defaults(Path dataDir) {
    return new RagConfig(dataDir, DEFAULT_MAX_UPLOAD_BYTES, 320, 48, 16, "Flat", DEFAULT_INGEST_WORKERS,
        DEFAULT_PARSE_TIMEOUT);
  }

  /**
   * From the "rag" object of the platform configuration; absent keys keep their defaults:
   * {@code {"dataDir", "maxUploadBytes", "chunkTokens", "overlapTokens", "embedBatch", "indexFactory",
   * "ingestWorkers", "parseTimeoutSeconds"}}.
   */
  public static RagConfig fromJson(JsonObject json, Path defaultDataDir) {
    RagConfig d = defaults(Path.of(json.getString("dataDir", defaultDataDir.toString())));
    return new RagConfig(d.dataDir(), json.getLong("maxUploadBytes", d.maxUploadBytes()),
        json.getInteger("chunkTokens", d.chunkTokens()),
        json.getInteger("overlapTokens", d.overlapTokens()),
        json.getInteger("embedBatch", d.embedBatch()),
        json.getString("indexFactory", d.indexFactory()),
        json.getInteger("ingestWorkers", d.ingestWorkers()),
        Duration.ofSeconds(json.getLong("parseTimeoutSeconds", d.parseTimeout().toSeconds())));
  }

  public RagConfig withMaxUploadBytes(long bytes) {
    return new RagConfig(dataDir, bytes, chunkTokens, overlapTokens, embedBatch, indexFactory, ingestWorkers,
        parseTimeout);
  }

  public RagConfig withIngestWorkers(int workers) {
    return new RagConfig(dataDir, maxUploadBytes, chunkTokens, overlapTokens, embedBatch, indexFactory, workers,
        parseTimeout);
  }

  public RagConfig withParseTimeout(Duration timeout) {
    return new RagConfig(dataDir, maxUploadBytes, chunkTokens, overlapTokens, embedBatch, indexFactory,
        ingestWorkers, timeout);
  }

  /** A duration as people write it: "60 s", "1.5 s" or "250 ms". */
  public static String describe(Duration duration) {
    long millis = duration.toMillis();
    return millis >= 1_000 ? BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString() + " s"
        : millis + " ms";
  }
}
