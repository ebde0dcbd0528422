package ai.deepchat.platform.rag;

import io.vertx.ext.web.Router;

/**
 * The rag module's knowledge-base HTTP API as the gateway mounts it under {@code /v1/knowledge-bases}:
 * the gateway authenticates the caller and puts {@code tenantId} on the routing context first. The
 * launcher passes the rag module's implementation; the pipeline never sees the module itself.
 */
public interface KnowledgeBaseApi {

  /** A new router of the API's routes, for one gateway instance. */
  Router router();
}
