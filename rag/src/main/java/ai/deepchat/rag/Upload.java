package ai.deepchat.rag;

import io.vertx.core.Future;

/**
 * An accepted upload: its document as stored now, and the end of its background ingestion (which
 * completes with the final status, ready or failed, and never fails itself).
 */
public record Upload(DocumentStatus accepted, Future<DocumentStatus> completion) {
}
