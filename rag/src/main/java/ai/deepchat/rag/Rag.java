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
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.Router;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.UUID;

/**
 * The RAG module wired together: one per process (or per test), over one data directory and one
 * database. Ingestion and queries get separate worker pools so a large upload never delays a search:
 * ingestion's parsing on {@code rag-ingest}, FAISS on {@code rag-query}; every embedding (a query's,
 * and ingestion's batches) on the node's {@code embeddings} pool, the one bound on ONNX threads.
 */
public final class Rag implements KnowledgeBaseApi {

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
  private final long resumeAgain;

  private Rag(Vertx vertx, Database database, RagConfig config, OutboundPolicy outbound) {
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
    this.evaluations = new Evaluations(database, knowledgeBases, retriever);
    resumeReembeddings();
    // a job whose node crashed moments ago still has a fresh heartbeat: looked at again once it is stale
    this.resumeAgain = vertx.setTimer(RESUME_AGAIN_MS, id -> resumeReembeddings());
  }

  private void resumeReembeddings() {
    knowledgeBases.resumeReembeddings().onFailure(failure -> LOG.warn("re-embeddings not resumed", failure));
  }

  /** Web imports refused for every internal address ({@link OutboundPolicy#strict}). */
  public static Rag create(Vertx vertx, Database database, RagConfig config) {
    return create(vertx, database, config, OutboundPolicy.strict());
  }

  /** {@code outbound}: the policy every fetch of a web import goes through (the node's {@code OutboundPolicy.of}). */
  public static Rag create(Vertx vertx, Database database, RagConfig config, OutboundPolicy outbound) {
    return new Rag(vertx, database, config, outbound);
  }

  public KnowledgeBaseService knowledgeBases() {
    return knowledgeBases;
  }

  public Retriever retriever() {
    return retriever;
  }

  /** The consumer of the retrieval address; deploy it where retrieval should be served. */
  public RetrieverVerticle retrieverVerticle() {
    return new RetrieverVerticle(retriever);
  }

  /** HTTP routes to mount under {@code /v1/knowledge-bases}; see {@link RagRoutes}. */
  @Override
  public Router router() {
    return RagRoutes.create(vertx, knowledgeBases, retriever, config, outbound, evaluations);
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
    return knowledgeBases.close().compose(stopped -> queryWorker.executeBlocking(() -> {
      vectors.close();
      return null;
    }, false)).eventually(() -> Future.all(ingestWorker.close(), queryWorker.close(), embeddings.close())).mapEmpty();
  }
}
