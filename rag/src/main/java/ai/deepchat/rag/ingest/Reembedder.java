package ai.deepchat.rag.ingest;

import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.embed.PassageEmbedding;
import ai.deepchat.rag.index.VectorStore;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Re-embeds knowledge bases into another embedding model in the background. The chunks' vectors of the
 * new model are stored beside the old ones ({@code chunks.pending_embedding}) a batch at a time, with
 * progress on the knowledge base's row; searches keep using the old model and its index meanwhile.
 * When every chunk has its new vector (chunks ingested meanwhile included), the new model's index is
 * built and the knowledge base switches to it in one transaction; the old index is then dropped.
 * Cancelled or failed, the new vectors are dropped and the old model stays. A node that stops releases
 * its jobs and the next node to start resumes them where they were ({@link #resume}).
 */
final class Reembedder {

  private static final Logger LOG = LoggerFactory.getLogger(Reembedder.class);

  private record Job(UUID tenantId, UUID knowledgeBaseId, String model) {
  }

  private final ReembedRepository repository;
  private final VectorStore vectors;
  private final PassageEmbedding embedding;
  private final int batch;
  private final Map<UUID, Future<Void>> running = new ConcurrentHashMap<>();
  private volatile boolean closed;

  Reembedder(ReembedRepository repository, VectorStore vectors, PassageEmbedding embedding, int batch) {
    this.repository = repository;
    this.vectors = vectors;
    this.embedding = embedding;
    this.batch = batch;
  }

  /**
   * Starts the re-embedding of the knowledge base into {@code model}; it runs in the background and
   * switches when done, or, without {@code autoSwitch}, stops "ready" for {@link #allowSwitch}.
   */
  Future<Void> start(UUID tenantId, UUID knowledgeBaseId, String model, boolean autoSwitch) {
    if (model == null || !EmbeddingModels.isKnown(model)) {
      return Future.failedFuture(new RagException(RagError.INVALID_INPUT, "unknown embedding model " + model
          + "; expected one of " + EmbeddingModels.all().keySet()));
    }
    return repository.start(tenantId, knowledgeBaseId, model, autoSwitch)
        .onSuccess(ignored -> launch(new Job(tenantId, knowledgeBaseId, model)));
  }

  /** Switches a "ready" re-embedding (after embedding the chunks ingested since it got ready). */
  Future<Void> allowSwitch(UUID tenantId, UUID knowledgeBaseId) {
    return repository.allowSwitch(tenantId, knowledgeBaseId).compose(model -> {
      if (model == null) {
        return Future.failedFuture(new RagException(RagError.REEMBED_NOT_RUNNING,
            "no re-embedding of the knowledge base waits for its switch"));
      }
      launch(new Job(tenantId, knowledgeBaseId, model));
      return Future.succeededFuture();
    });
  }

  /** Cancels the running re-embedding; the knowledge base keeps its model. */
  Future<Void> cancel(UUID tenantId, UUID knowledgeBaseId) {
    return repository.stop(tenantId, knowledgeBaseId, "cancelled", null)
        .compose(model -> model == null
            ? Future.failedFuture(new RagException(RagError.REEMBED_NOT_RUNNING,
                "the knowledge base is not being re-embedded"))
            : dropQuietly(tenantId, knowledgeBaseId, model));
  }

  /** Resumes the jobs of every tenant that a stopped node left (at start, and once more later). */
  Future<Void> resume() {
    if (closed) {
      return Future.succeededFuture();
    }
    return repository.tenants().compose(tenants -> {
      List<Future<Void>> claimed = new ArrayList<>();
      for (UUID tenant : tenants) {
        claimed.add(repository.claimOrphans(tenant).map(orphans -> {
          orphans.forEach(o -> {
            LOG.info("resuming the re-embedding of knowledge base {} into {}", o.knowledgeBaseId(), o.model());
            launch(new Job(tenant, o.knowledgeBaseId(), o.model()));
          });
          return null;
        }));
      }
      return Future.join(claimed).mapEmpty();
    });
  }

  /** Stops the jobs after their current batch and leaves them to the next node to start. */
  Future<Void> close() {
    closed = true;
    return Future.join(new ArrayList<>(running.values())).transform(ignored -> Future.succeededFuture());
  }

  private void launch(Job job) {
    Future<Void> previous = running.get(job.knowledgeBaseId());
    // a job restarted right after a cancel waits for the cancelled one's last batch
    Future<Void> after = previous == null ? Future.succeededFuture() : previous;
    Future<Void> run = after.transform(ignored -> step(job, EmbeddingModels.get(job.model())));
    running.put(job.knowledgeBaseId(), run);
    run.onComplete(ignored -> running.remove(job.knowledgeBaseId(), run));
  }

  private Future<Void> step(Job job, Embedder embedder) {
    if (closed) {
      return repository.release(job.tenantId(), job.knowledgeBaseId(), job.model());
    }
    return repository.next(job.tenantId(), job.knowledgeBaseId(), job.model(), batch)
        .compose(chunks -> {
          if (chunks == null) {
            return Future.<Void>succeededFuture(); // cancelled, restarted or deleted meanwhile
          }
          if (chunks.isEmpty()) {
            return finish(job, embedder);
          }
          return embedding.embed(embedder, chunks.stream().map(ReembedRepository.Pending::text).toList())
              .compose(embedded -> repository.store(job.tenantId(), job.knowledgeBaseId(), job.model(), chunks,
                  embedded))
              .compose(stored -> step(job, embedder));
        })
        .recover(failure -> closed ? repository.release(job.tenantId(), job.knowledgeBaseId(), job.model())
            : fail(job, failure));
  }

  private Future<Void> finish(Job job, Embedder embedder) {
    return vectors.build(job.tenantId(), job.knowledgeBaseId(), job.model(), embedder.dimension())
        .compose(built -> repository.switchModel(job.tenantId(), job.knowledgeBaseId(), job.model()))
        .compose(outcome -> {
          if (outcome.more()) {
            return step(job, embedder); // chunks ingested while the index was built
          }
          if (outcome.stopped()) {
            // cancelled, failed or deleted while the index was built: it is not the serving one, drop it
            return job.model().equals(outcome.oldModel()) ? Future.<Void>succeededFuture()
                : dropQuietly(job.tenantId(), job.knowledgeBaseId(), job.model());
          }
          if (outcome.held()) {
            LOG.info("knowledge base {} is ready to switch to {}", job.knowledgeBaseId(), job.model());
            return Future.<Void>succeededFuture();
          }
          LOG.info("knowledge base {} switched from {} to {}", job.knowledgeBaseId(), outcome.oldModel(),
              job.model());
          return dropQuietly(job.tenantId(), job.knowledgeBaseId(), outcome.oldModel());
        });
  }

  private Future<Void> fail(Job job, Throwable failure) {
    LOG.warn("re-embedding of knowledge base {} into {} failed", job.knowledgeBaseId(), job.model(), failure);
    String message = failure instanceof RagException ? failure.getMessage()
        : "the re-embedding failed; see the node's log";
    return repository.stop(job.tenantId(), job.knowledgeBaseId(), "failed", message)
        .compose(model -> model == null ? Future.<Void>succeededFuture()
            : dropQuietly(job.tenantId(), job.knowledgeBaseId(), model))
        .recover(stopFailure -> {
          LOG.warn("re-embedding of knowledge base {} not marked failed", job.knowledgeBaseId(), stopFailure);
          return Future.succeededFuture();
        });
  }

  // an index file left behind only costs disk until the knowledge base is deleted
  private Future<Void> dropQuietly(UUID tenantId, UUID knowledgeBaseId, String model) {
    return vectors.drop(tenantId, knowledgeBaseId, model).recover(failure -> {
      LOG.warn("index of {} for knowledge base {} not removed", model, knowledgeBaseId, failure);
      return Future.succeededFuture();
    });
  }
}
