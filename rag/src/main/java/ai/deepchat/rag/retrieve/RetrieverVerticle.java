package ai.deepchat.rag.retrieve;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.rag.RagError;
import ai.deepchat.rag.RagException;
import ai.deepchat.rag.Retriever;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * Serves {@link Addresses#RAG_RETRIEVE}: a RetrieveRequest is answered with a RetrieveReply, or failed
 * with the {@link RagError}'s bus failure (404 for a knowledge base the tenant does not have, whoever owns it).
 */
public final class RetrieverVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RetrieverVerticle.class);

  private final Retriever retriever;

  public RetrieverVerticle(Retriever retriever) {
    this.retriever = retriever;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<RetrieveRequest>consumer(Addresses.RAG_RETRIEVE, this::handle)
        .completion();
  }

  private void handle(Message<RetrieveRequest> message) {
    RetrieveRequest request = message.body();
    UUID tenantId;
    UUID knowledgeBaseId;
    try {
      tenantId = UUID.fromString(request.tenantId());
      knowledgeBaseId = UUID.fromString(request.knowledgeBaseId());
    } catch (RuntimeException malformed) {
      // an id that is not a UUID names nothing this tenant has
      RagError.NOT_FOUND.failure().fail(message, "knowledge base not found");
      return;
    }
    retriever.retrieveTranslated(tenantId, knowledgeBaseId, request.query(), request.translation(), request.topK())
        .onSuccess(message::reply)
        .onFailure(failure -> {
          RagError error = RagException.errorOf(failure);
          if (error == RagError.INTERNAL) {
            LOG.error("retrieval in knowledge base {} failed", knowledgeBaseId, failure);
          }
          error.failure().fail(message, error == RagError.INTERNAL ? "retrieval failed"
              : failure.getMessage());
        });
  }
}
