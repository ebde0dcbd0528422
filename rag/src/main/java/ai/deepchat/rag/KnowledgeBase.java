package ai.deepchat.rag;

import java.util.UUID;

/**
 * A tenant's knowledge base; {@code version} grows with every ingestion and deletion;
 * {@code answersChat} when it is the one the tenant's chat answers from; {@code reembedding} the latest
 * re-embedding into another model (null when there never was one).
 */
public record KnowledgeBase(UUID id, String name, String description, String embeddingModel,
                            long version, boolean answersChat, Reembedding reembedding) {
}
