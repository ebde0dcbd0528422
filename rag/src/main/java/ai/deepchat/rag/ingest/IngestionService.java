package ai.deepchat.rag.ingest;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.rag.DocumentStatus;
import ai.deepchat.rag.KnowledgeBase;
import ai.deepchat.rag.KnowledgeBaseChange;
import ai.deepchat.rag.KnowledgeBaseService;
import ai.deepchat.rag.Page;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Upload;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.embed.EnglishVectors;
import ai.deepchat.rag.embed.PassageEmbedding;
import ai.deepchat.rag.index.VectorStore;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * Knowledge bases and ingestion. An upload is validated (type sniffed from its content and agreeing
 * with its name, size, UTF-8 text for text formats) before it is accepted; conversion and chunking then
 * run in the background on the ingestion worker pool ({@code ingestWorkers} documents at once, tenants
 * taking turns: {@link TenantFairQueue}) and embedding on the node's embeddings pool, with progress
 * stored on the document row, and the result is committed to PostgreSQL first (the source of truth) and
 * to the FAISS index second.
 */
public final class IngestionService implements KnowledgeBaseService {

  private static final Logger LOG = LoggerFactory.getLogger(IngestionService.class);
  private static final int MAX_NAME = 255;

  private final RagConfig config;
  private final DocumentRepository repository;
  private final VectorStore vectors;
  private final WorkerExecutor worker;
  private final PassageEmbedding embedding;
  private final DocumentParser parser;
  private final KeyedSerializer commits = new KeyedSerializer();
  private final TenantFairQueue queue;
  private final DocumentFiles files;
  private final Reembedder reembedder;

  /**
   * @param worker where decoding and parsing run; never an event loop
   * @param embeddings the node's {@code embeddings} pool, of {@code embedParallelism} threads: a batch is
   *     split over them, so one upload's embedding can use the whole pool and never more
   */
  public IngestionService(Database database, VectorStore vectors, WorkerExecutor worker,
                          WorkerExecutor embeddings, int embedParallelism, RagConfig config) {
    this.config = config;
    this.repository = new DocumentRepository(database);
    this.vectors = vectors;
    this.worker = worker;
    this.embedding = new PassageEmbedding(embeddings, embedParallelism);
    this.parser = new DocumentParser(config.chunkTokens(), config.overlapTokens(), config.parseTimeout());
    this.queue = new TenantFairQueue(config.ingestWorkers());
    this.files = new DocumentFiles(config.dataDir());
    this.reembedder = new Reembedder(new ReembedRepository(database), vectors, embedding, config.embedBatch());
  }

  /** Resumes the re-embeddings a stopped node left; call once the node is up. */
  public Future<Void> resumeReembeddings() {
    return reembedder.resume();
  }

  /** Stops the re-embeddings after their current batch, leaving them to the next node to start. */
  public Future<Void> close() {
    return reembedder.close();
  }

  @Override
  public Future<KnowledgeBase> createKnowledgeBase(UUID tenantId, String name, String description,
                                                   String embeddingModel) {
    String model = embeddingModel == null || embeddingModel.isBlank()
        ? EMBEDDING_MODELS.get(0) : embeddingModel;
    if (name == null || name.isBlank() || name.length() > MAX_NAME) {
      return invalid("a knowledge base needs a name of 1 to " + MAX_NAME + " characters");
    }
    if (!EmbeddingModels.isKnown(model)) {
      return invalid("unknown embedding model " + model + "; expected one of " + EMBEDDING_MODELS);
    }
    return repository.createKnowledgeBase(tenantId, name.strip(),
        description == null ? "" : description, model);
  }

  @Override
  public Future<List<KnowledgeBase>> listKnowledgeBases(UUID tenantId) {
    return repository.listKnowledgeBases(tenantId);
  }

  @Override
  public Future<Page<KnowledgeBase>> listKnowledgeBases(UUID tenantId, UUID after, int limit) {
    return limit < 1 || limit > Page.MAX_LIMIT ? invalid("limit must be 1 to " + Page.MAX_LIMIT)
        : repository.listKnowledgeBases(tenantId, after, limit);
  }

  @Override
  public Future<KnowledgeBase> knowledgeBase(UUID tenantId, UUID knowledgeBaseId) {
    return repository.knowledgeBase(tenantId, knowledgeBaseId);
  }

  @Override
  public Future<KnowledgeBase> updateKnowledgeBase(UUID tenantId, UUID knowledgeBaseId,
                                                   KnowledgeBaseChange change) {
    String name = change.name();
    if (name != null && (name.isBlank() || name.length() > MAX_NAME)) {
      return invalid("a knowledge base needs a name of 1 to " + MAX_NAME + " characters");
    }
    return repository.updateKnowledgeBase(tenantId, knowledgeBaseId,
        new KnowledgeBaseChange(name == null ? null : name.strip(), change.description(), change.answersChat()));
  }

  @Override
  public Future<KnowledgeBase> startReembedding(UUID tenantId, UUID knowledgeBaseId, String embeddingModel,
                                                boolean autoSwitch) {
    return reembedder.start(tenantId, knowledgeBaseId, embeddingModel, autoSwitch)
        .compose(started -> repository.knowledgeBase(tenantId, knowledgeBaseId));
  }

  @Override
  public Future<KnowledgeBase> switchReembedding(UUID tenantId, UUID knowledgeBaseId) {
    return reembedder.allowSwitch(tenantId, knowledgeBaseId)
        .compose(started -> repository.knowledgeBase(tenantId, knowledgeBaseId));
  }

  @Override
  public Future<KnowledgeBase> cancelReembedding(UUID tenantId, UUID knowledgeBaseId) {
    return reembedder.cancel(tenantId, knowledgeBaseId)
        .compose(cancelled -> repository.knowledgeBase(tenantId, knowledgeBaseId));
  }

  @Override
  public Future<Void> deleteKnowledgeBase(UUID tenantId, UUID knowledgeBaseId) {
    // after the commits of running ingestions; those still embedding find their document gone and stop
    return commits.run(knowledgeBaseId, () -> repository.deleteKnowledgeBase(tenantId, knowledgeBaseId)
        .compose(deleted -> worker.executeBlocking(() -> {
          files.deleteAll(tenantId, knowledgeBaseId);
          return null;
        }, false))
        .compose(deleted -> vectors.drop(tenantId, knowledgeBaseId)
            .recover(indexFailure -> {
              LOG.warn("index of deleted knowledge base {} not removed", knowledgeBaseId, indexFailure);
              return Future.succeededFuture();
            })));
  }

  @Override
  public Future<Upload> upload(UUID tenantId, UUID knowledgeBaseId, String sourceName,
                               Buffer content) {
    if (content.length() > config.maxUploadBytes()) {
      return Future.failedFuture(tooLarge(sourceName, content.length()));
    }
    return accept(tenantId, knowledgeBaseId, sourceName, content::getBytes);
  }

  @Override
  public Future<Upload> upload(UUID tenantId, UUID knowledgeBaseId, String sourceName, Path file) {
    return accept(tenantId, knowledgeBaseId, sourceName, () -> {
      long size = Files.size(file);
      if (size > config.maxUploadBytes()) {
        throw tooLarge(sourceName, size);
      }
      return Files.readAllBytes(file);
    });
  }

  private RagException tooLarge(String sourceName, long size) {
    return new RagException(RagError.TOO_LARGE, sourceName + " has " + size
        + " bytes, above the upload limit of " + config.maxUploadBytes());
  }

  /** {@code content} runs on the ingestion worker: reading a large upload never blocks an event loop. */
  private Future<Upload> accept(UUID tenantId, UUID knowledgeBaseId, String sourceName,
                                Callable<byte[]> content) {
    if (sourceName == null || sourceName.isBlank() || sourceName.length() > MAX_NAME) {
      return invalid("a document needs a file name of 1 to " + MAX_NAME + " characters");
    }
    if (sourceName.indexOf('\0') >= 0) {
      return invalid("a file name must not contain a NUL character");
    }
    try {
      SourceFormat.of(sourceName);
    } catch (RagException e) {
      return Future.failedFuture(e);
    }
    return repository.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(base -> worker.executeBlocking(() -> {
          byte[] bytes = content.call();
          return new Received(Decoded.of(sourceName, bytes), bytes);
        }, false).compose(received -> repository.accept(tenantId, knowledgeBaseId, sourceName,
                DocumentParser.baseName(sourceName), received.decoded().format(), received.decoded().hash(),
                received.decoded().size())
            .compose(accepted -> worker.executeBlocking(() -> {
              // kept for retries and re-syncs before ingestion starts (also when unchanged: a document from
              // before originals were kept gets one by being uploaded again)
              files.write(tenantId, knowledgeBaseId, accepted.document().id(), received.original());
              return accepted;
            }, false))
            .compose(accepted -> keptOnlyIfStillThere(tenantId, knowledgeBaseId, accepted))
            .map(accepted -> {
              if (accepted.unchanged()) {
                return new Upload(accepted.document(), Future.succeededFuture(accepted.document()));
              }
              Decoded decoded = received.decoded(); // a text format waits in the queue as text, not bytes
              Job job = new Job(tenantId, base, accepted.document().id(), sourceName, decoded.format(),
                  decoded.hash());
              // queued per tenant: one tenant's big uploads never hold every worker of the node
              return new Upload(accepted.document(),
                  queue.submit(tenantId, job.documentId(), () -> run(job, decoded)));
            })));
  }

  /**
   * The knowledge base (or the document) may have been deleted between the document's row and its
   * original's write, and the deletion's file cleanup may have run before the write: checked after it,
   * so that in every order the original of a deleted document is removed.
   */
  private Future<DocumentRepository.Accepted> keptOnlyIfStillThere(UUID tenantId, UUID knowledgeBaseId,
                                                                   DocumentRepository.Accepted accepted) {
    UUID documentId = accepted.document().id();
    return repository.document(tenantId, knowledgeBaseId, documentId).map(accepted)
        .recover(gone -> RagException.errorOf(gone) != RagError.NOT_FOUND ? Future.failedFuture(gone)
            : worker.executeBlocking(() -> {
              files.delete(tenantId, knowledgeBaseId, documentId);
              files.deleteIfEmpty(tenantId, knowledgeBaseId);
              return null;
            }, false).compose(removed -> Future.failedFuture(new RagException(RagError.NOT_FOUND,
                "the document or its knowledge base was deleted during the upload"))));
  }

  @Override
  public Future<Upload> resync(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return repository.document(tenantId, knowledgeBaseId, documentId)
        .compose(document -> worker.executeBlocking(() -> files.read(tenantId, knowledgeBaseId, documentId), false)
            .compose(original -> original == null
                ? invalid(document.sourceName() + " was uploaded before originals were kept; upload it again")
                : upload(tenantId, knowledgeBaseId, document.sourceName(), Buffer.buffer(original))));
  }

  @Override
  public Future<List<DocumentStatus>> listDocuments(UUID tenantId, UUID knowledgeBaseId) {
    return repository.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(base -> repository.listDocuments(tenantId, knowledgeBaseId));
  }

  @Override
  public Future<Page<DocumentStatus>> listDocuments(UUID tenantId, UUID knowledgeBaseId, UUID after, int limit,
                                                    String status) {
    if (limit < 1 || limit > Page.MAX_LIMIT) {
      return invalid("limit must be 1 to " + Page.MAX_LIMIT);
    }
    return repository.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(base -> repository.listDocuments(tenantId, knowledgeBaseId, after, limit, status));
  }

  @Override
  public Future<DocumentStatus> document(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return repository.document(tenantId, knowledgeBaseId, documentId);
  }

  @Override
  public Future<Void> deleteDocument(UUID tenantId, UUID knowledgeBaseId, UUID documentId) {
    return repository.knowledgeBase(tenantId, knowledgeBaseId)
        .compose(base -> commits.run(knowledgeBaseId, () -> repository
            .delete(tenantId, knowledgeBaseId, documentId)
            .compose(ids -> worker.executeBlocking(() -> {
              files.delete(tenantId, knowledgeBaseId, documentId);
              return ids;
            }, false))
            .compose(ids -> vectors.update(tenantId, knowledgeBaseId, base.embeddingModel(), dimensionOf(base), ids,
                    new long[0], new float[0])
                .recover(indexFailure -> Future.succeededFuture()))));
  }

  /**
   * An upload checked before it is accepted: its real format (sniffed, agreeing with its name), and
   * its text when the format is text (strict UTF-8) or its bytes for the extractors otherwise.
   */
  private record Decoded(SourceFormat format, String text, byte[] bytes, String hash, long size) {

    static Decoded of(String sourceName, byte[] bytes) {
      SourceFormat format = ContentSniffer.sniff(sourceName, bytes);
      String text = format.isText() ? DocumentDecoder.decode(sourceName, bytes, format) : null;
      return new Decoded(format, text, text == null ? bytes : null, sha256(bytes), bytes.length);
    }

    ParsedDocument parse(DocumentParser parser, String sourceName) {
      return text != null ? parser.parse(sourceName, format, text) : parser.parse(sourceName, format, bytes);
    }
  }

  /** An upload's bytes as received (kept on disk as the original) and as checked. */
  private record Received(Decoded decoded, byte[] original) {
  }

  private record Job(UUID tenantId, KnowledgeBase base, UUID documentId, String sourceName,
                     SourceFormat format, String hash) {
  }

  /** The background ingestion; its future always completes with the document's final status. */
  private Future<DocumentStatus> run(Job job, Decoded decoded) {
    Embedder embedder = EmbeddingModels.get(job.base().embeddingModel());
    return worker.executeBlocking(() -> decoded.parse(parser, job.sourceName()), false)
        .compose(parsed -> repository.progress(job.tenantId(), job.documentId(), job.hash(), 0.05)
            .compose(ignored -> embed(job, embedder, parsed, 0, new Embedded(new ArrayList<>(), new ArrayList<>())))
            .compose(embedded -> commits.run(job.base().id(), () -> commit(job, embedder, parsed,
                embedded))))
        .recover(failure -> failure instanceof DocumentRepository.ModelChanged
            // a re-embedding switched the model meanwhile: embed it again with the new one
            ? repository.knowledgeBase(job.tenantId(), job.base().id())
                .compose(base -> run(new Job(job.tenantId(), base, job.documentId(), job.sourceName(),
                    job.format(), job.hash()), decoded))
                .mapEmpty()
            : Future.failedFuture(failure))
        .recover(failure -> {
          String message = failure instanceof RagException ? failure.getMessage()
              : "ingestion failed: " + failure;
          if (failure instanceof RagException) { // the document's own fault: its message says it all
            LOG.info("ingestion of {} refused: {}", job.sourceName(), message);
          } else {
            LOG.warn("ingestion of {} failed", job.sourceName(), failure);
          }
          return repository.fail(job.tenantId(), job.documentId(), job.hash(), message);
        })
        .transform(ignored -> repository.document(job.tenantId(), job.base().id(), job.documentId()))
        .recover(gone -> Future.succeededFuture(new DocumentStatus(job.documentId(), job.base().id(),
            job.sourceName(), job.sourceName(), job.format().contentType(), 0, "failed", 0,
            "document was deleted during ingestion", 0)));
  }

  /** Each chunk's vector, and its bge-small-en vector where {@link EnglishVectors} applies (else null). */
  private record Embedded(List<float[]> vectors, List<float[]> english) {
  }

  // One batch at a time, so progress moves and the worker pool is shared fairly between uploads.
  private Future<Embedded> embed(Job job, Embedder embedder, ParsedDocument parsed, int from, Embedded done) {
    List<Chunk> chunks = parsed.chunks();
    if (from >= chunks.size()) {
      return Future.succeededFuture(done);
    }
    int to = Math.min(chunks.size(), from + config.embedBatch());
    List<String> texts = chunks.subList(from, to).stream().map(Chunk::embeddingText).toList();
    boolean english = EnglishVectors.applies(embedder.name());
    return embedSplit(embedder, english, texts)
        .compose(batch -> {
          done.vectors().addAll(batch.vectors());
          done.english().addAll(batch.english());
          return repository.progress(job.tenantId(), job.documentId(), job.hash(),
              0.05 + 0.9 * to / chunks.size());
        })
        .compose(ignored -> embed(job, embedder, parsed, to, done));
  }

  /** The batch's vectors in order; for a bge-small-zh knowledge base also its English texts' bge-small-en ones. */
  private Future<Embedded> embedSplit(Embedder embedder, boolean english, List<String> texts) {
    Future<List<float[]>> vectors = embedding.embed(embedder, texts);
    if (!english) {
      return vectors.map(v -> new Embedded(v, java.util.Collections.nCopies(v.size(), null)));
    }
    Future<List<float[]>> en = embedding.embed(EnglishVectors.model(),
        texts.stream().filter(EnglishVectors::isEnglish).toList());
    return Future.all(vectors, en).map(all -> new Embedded(vectors.result(), EnglishVectors.place(texts, en.result())));
  }

  private Future<Void> commit(Job job, Embedder embedder, ParsedDocument parsed, Embedded both) {
    List<float[]> embedded = both.vectors();
    return repository.replaceChunks(job.tenantId(), job.base().id(), job.documentId(), job.hash(),
            job.base().embeddingModel(), parsed, embedded, both.english())
        .compose(replaced -> {
          if (replaced.superseded()) {
            return Future.succeededFuture();
          }
          float[] flat = new float[embedded.size() * embedder.dimension()];
          for (int i = 0; i < embedded.size(); i++) {
            System.arraycopy(embedded.get(i), 0, flat, i * embedder.dimension(), embedder.dimension());
          }
          // PostgreSQL holds the chunks now; a failed index update only costs a rebuild later.
          return vectors.update(job.tenantId(), job.base().id(), job.base().embeddingModel(), embedder.dimension(),
                  replaced.oldIds(), replaced.newIds(), flat)
              .recover(indexFailure -> Future.succeededFuture());
        });
  }

  private static int dimensionOf(KnowledgeBase base) {
    return EmbeddingModels.get(base.embeddingModel()).dimension();
  }

  private static <T> Future<T> invalid(String message) {
    return Future.failedFuture(new RagException(RagError.INVALID_INPUT, message));
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
