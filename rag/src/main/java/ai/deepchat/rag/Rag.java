package ai.deepchat.rag;

import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.rag.KnowledgeBaseApi;
import ai.deepchat.rag.eval.Evaluations;
import ai.deepchat.rag.http.RagRoutes;
import ai.deepchat.rag.index.PgVectorSource;
import ai.deepchat.rag.index.VectorStore;
import ai.deepchat.rag.ingest.IngestionService;
import ai.deepchat.rag.retrieve.HybridRetriever;
import ai.deepchat.rag.retrieve.RetrieverVerticle;
import ai.deepchat.rag.web.CrawlSettings;
import ai.deepchat.rag.web.WebSources;
import ai.deepchat.rag.web.WebSyncVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.Router;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * The RAG module wired together: one per process (or per test), over one data directory and one
 * database. Ingestion and queries get separate worker pools so a large upload never delays a search:
 * ingestion's parsing on {@code rag-ingest}, FAISS on {@code rag-query}; every embedding (a query's,
 * and ingestion's batches) on the node's {@code embeddings} pool, the one bound on ONNX threads.
 */
public final class Rag implements KnowledgeBaseApi {

  /** How often a node looks for web sources whose scheduled sync is due (intervals are whole minutes). */
  private static final Duration WEB_SYNC_CHECK = Duration.ofSeconds(30);
  private static final Logger LOG = LoggerFactory.getLogger(Rag.class);
  /** After the heartbeat of a job whose node crashed went stale (30 s). */
  private static final long RESUME_AGAIN_MS = 35_000;

  private final Vertx vertx;
  private final RagConfig config;
  private final OutboundPolicy outbound;
  private final WorkerExecutor ingestWorker;
  private final WorkerExecutor queryWorker;
  private final WorkerExecutor embeddings;
  private final VectorStore vectors;
  private final IngestionService knowledgeBases;
  private final HybridRetriever retriever;
  private final Evaluations evaluations;
  private final WebSources webSources;
  private final long resumeAgain;

  private Rag(Vertx vertx, Database database, RagConfig config, OutboundPolicy outbound, CrawlSettings crawl) {
    this.vertx = vertx;
    this.outbound = outbound;
    this.config = config;
    this.ingestWorker = vertx.createSharedWorkerExecutor("rag-ingest", config.ingestWorkers());
    this.queryWorker = vertx.createSharedWorkerExecutor("rag-query", 4);
    this.embeddings = WorkerPools.of(vertx).open(WorkerPools.Kind.EMBEDDINGS);
    this.vectors = new VectorStore(config.dataDir(), config.indexFactory(), queryWorker,
        new PgVectorSource(database));
    this.knowledgeBases = new IngestionService(database, vectors, ingestWorker, embeddings,
        WorkerPools.of(vertx).size(WorkerPools.Kind.EMBEDDINGS), config);
    this.retriever = new HybridRetriever(database, knowledgeBases, vectors, embeddings);
    this.evaluations = new Evaluations(vertx, database, knowledgeBases, retriever);
    this.webSources = new WebSources(vertx, database, knowledgeBases, outbound, ingestWorker,
        crawl);
    takeOverAbandonedWork();
    // a job or run whose node crashed moments ago still has a fresh heartbeat: looked at again once it is stale
    this.resumeAgain = vertx.setTimer(RESUME_AGAIN_MS, id -> takeOverAbandonedWork());
  }

  /** What stopped nodes left: re-embeddings are resumed, evaluation runs failed (they are quick to run again). */
  private void takeOverAbandonedWork() {
    knowledgeBases.resumeReembeddings().onFailure(failure -> LOG.warn("re-embeddings not resumed", failure));
    evaluations.failAbandoned().onFailure(failure -> LOG.warn("abandoned evaluation runs not failed", failure));
  }

  /** Web imports refused for every internal address ({@link OutboundPolicy#strict}). */
  public static Rag create(Vertx vertx, Database database, RagConfig config) {
    return create(vertx, database, config, OutboundPolicy.strict());
  }

  /** {@code outbound}: the policy every fetch of a web import goes through (the node's {@code OutboundPolicy.of}). */
  public static Rag create(Vertx vertx, Database database, RagConfig config, OutboundPolicy outbound) {
    return create(vertx, database, config, outbound, CrawlSettings.defaults());
  }

  /** {@code crawl}: how politely site imports crawl (tests shorten the pause between requests). */
  public static Rag create(Vertx vertx, Database database, RagConfig config, OutboundPolicy outbound,
                           CrawlSettings crawl) {
    return new Rag(vertx, database, config, outbound, crawl);
  }

  public KnowledgeBaseService knowledgeBases() {
    return knowledgeBases;
  }

  public Retriever retriever() {
    return retriever;
  }

  /** The retriever with its stage timings (bench/rag). */
  public HybridRetriever hybridRetriever() {
    return retriever;
  }

  /** The FAISS indexes (bench/rag adds cached padding vectors without re-embedding them). */
  public VectorStore vectorStore() {
    return vectors;
  }

  /** The consumer of the retrieval address; deploy it where retrieval should be served. */
  public RetrieverVerticle retrieverVerticle() {
    return new RetrieverVerticle(retriever);
  }

  /** HTTP routes to mount under {@code /v1/knowledge-bases}; see {@link RagRoutes}. */
  @Override
  public Router router() {
    return RagRoutes.create(vertx, knowledgeBases, retriever, config, outbound, evaluations, webSources);
  }

  /** Web and site sources of knowledge bases, and their syncs. */
  public WebSources webSources() {
    return webSources;
  }

  /** The timer of scheduled web-source syncs; deploy it on the nodes that ingest (one per node). */
  public WebSyncVerticle webSyncVerticle() {
    return new WebSyncVerticle(webSources, WEB_SYNC_CHECK);
  }

  /** Evaluation sets and runs of knowledge bases (recall@k and MRR through the real retrieval). */
  public Evaluations evaluations() {
    return evaluations;
  }

  /** Where the FAISS index of a knowledge base lives (for operators and tests). */
  public Path indexFile(UUID tenantId, UUID knowledgeBaseId, String embeddingModel) {
    return vectors.indexFile(tenantId, knowledgeBaseId, embeddingModel);
  }

  /**
   * Stops the re-embeddings after their batch, closes the open indexes (on a worker: it waits for running
   * searches), then the worker pools.
   */
  public Future<Void> close() {
    vertx.cancelTimer(resumeAgain);
    evaluations.close();
    return knowledgeBases.close().compose(stopped -> queryWorker.executeBlocking(() -> {
      vectors.close();
      return null;
    }, false)).eventually(webSources::close).eventually(() -> Future.all(ingestWorker.close(), queryWorker.close(), embeddings.close())).mapEmpty();
  }
}
