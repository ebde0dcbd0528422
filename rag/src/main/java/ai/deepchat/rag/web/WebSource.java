package ai.deepchat.rag.web;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A knowledge base's web source and where its sync stands.
 *
 * @param status              pending, syncing, ready or failed (the whole sync; pages fail on their own)
 * @param syncIntervalMinutes null when synced on demand only
 * @param pagesFound          URLs the running or last sync reached (fetched, skipped or failed)
 * @param pagesDone           of those, how many are recorded
 */
public record WebSource(UUID id, UUID knowledgeBaseId, String startUrl, boolean wholeSite, int maxDepth,
                        int maxPages, Integer syncIntervalMinutes, String status, String error, int pagesFound,
                        int pagesDone, int pagesAdded, int pagesUpdated, int pagesUnchanged, int pagesRemoved,
                        int pagesFailed, OffsetDateTime lastSyncedAt, OffsetDateTime nextSyncAt,
                        OffsetDateTime createdAt) {

  public CrawlPlan plan() {
    return new CrawlPlan(startUrl, wholeSite, maxDepth, maxPages);
  }
}
