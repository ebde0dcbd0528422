package ai.deepchat.rag;

import java.util.UUID;

/** A tenant's knowledge base; {@code version} grows with every ingestion and deletion. */
public record KnowledgeBase(UUID id, String name, String description, String embeddingModel,
                            long version) {
}
