package ai.deepchat.rag;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Knowledge bases and their documents, always within one tenant (row-level security applies). Failed
 * futures carry a {@link RagException}; another tenant's ids read as {@link RagError#NOT_FOUND}.
 */
public interface KnowledgeBaseService {

  /** Embedding models a knowledge base may use; the first is the default. */
  List<String> EMBEDDING_MODELS = List.of("bge-small-zh-v1.5-q", "bge-small-en-v1.5-q");

  Future<KnowledgeBase> createKnowledgeBase(UUID tenantId, String name, String description,
                                            String embeddingModel);

  Future<List<KnowledgeBase>> listKnowledgeBases(UUID tenantId);

  /** Knowledge bases by name, then id, after the one {@code after} (null: from the first). */
  Future<Page<KnowledgeBase>> listKnowledgeBases(UUID tenantId, UUID after, int limit);

  Future<KnowledgeBase> knowledgeBase(UUID tenantId, UUID knowledgeBaseId);

  /** Renames or describes it, or makes it the one that answers the tenant's chat. */
  Future<KnowledgeBase> updateKnowledgeBase(UUID tenantId, UUID knowledgeBaseId, KnowledgeBaseChange change);

  /**
   * Starts re-embedding the knowledge base into {@code embeddingModel} in the background: searches keep
   * the current model until every chunk has its new vector, then it switches in one step. Its state is
   * the knowledge base's {@link KnowledgeBase#reembedding}. Without {@code autoSwitch} it stops "ready"
   * instead of switching, so the new model can be evaluated first; {@link #switchReembedding} switches.
   */
  Future<KnowledgeBase> startReembedding(UUID tenantId, UUID knowledgeBaseId, String embeddingModel,
                                         boolean autoSwitch);

  /** Switches the knowledge base to its "ready" re-embedding's model. */
  Future<KnowledgeBase> switchReembedding(UUID tenantId, UUID knowledgeBaseId);

  /** Cancels the running re-embedding; the knowledge base keeps its model. */
  Future<KnowledgeBase> cancelReembedding(UUID tenantId, UUID knowledgeBaseId);

  /** Removes the knowledge base with its documents, chunks, stored files and index. */
  Future<Void> deleteKnowledgeBase(UUID tenantId, UUID knowledgeBaseId);

  /**
   * Validates and accepts a Markdown (.md), plain text (.txt) or HTML (.html) upload, then ingests it
   * in the background. The same source name replaces the earlier document and its chunks.
   */
  Future<Upload> upload(UUID tenantId, UUID knowledgeBaseId, String sourceName, Buffer content);

  /**
   * The same for an upload received on disk (the caller keeps and deletes {@code file}); it is read
   * on the ingestion worker pool, so concurrent large uploads never buffer on an event loop.
   */
  Future<Upload> upload(UUID tenantId, UUID knowledgeBaseId, String sourceName, Path file);

  /**
   * Ingests the document again from its stored original: retries a failed one, and re-embeds one whose
   * ingestion was interrupted; a ready document whose original is unchanged stays as it is.
   */
  Future<Upload> resync(UUID tenantId, UUID knowledgeBaseId, UUID documentId);

  Future<List<DocumentStatus>> listDocuments(UUID tenantId, UUID knowledgeBaseId);

  /**
   * Documents by source name, then id, after the one {@code after} (null: from the first), only those
   * in {@code status} when it is not null.
   */
  Future<Page<DocumentStatus>> listDocuments(UUID tenantId, UUID knowledgeBaseId, UUID after, int limit,
                                             String status);

  Future<DocumentStatus> document(UUID tenantId, UUID knowledgeBaseId, UUID documentId);

  /** Removes the document, its chunks and their vectors. */
  Future<Void> deleteDocument(UUID tenantId, UUID knowledgeBaseId, UUID documentId);
}
