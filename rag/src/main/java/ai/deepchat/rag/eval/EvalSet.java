package ai.deepchat.rag.eval;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A tenant's stored evaluation set for one knowledge base. */
public record EvalSet(UUID id, UUID knowledgeBaseId, String name, int questionCount, OffsetDateTime createdAt) {
}
