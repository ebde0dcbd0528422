package ai.deepchat.rag.web;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One page of a web source as its last sync left it.
 *
 * @param status         added, updated, unchanged, skipped or failed
 * @param documentId     the document it was imported as, or null (skipped, or failed before any import)
 * @param documentStatus that document's ingestion status (pending, processing, ready, failed), or null
 */
public record WebSourcePage(UUID id, String url, int depth, String status, String error, UUID documentId,
                            String documentStatus, double documentProgress, OffsetDateTime fetchedAt) {
}
