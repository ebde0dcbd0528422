package ai.deepchat.chat.api;

import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.rag.KnowledgeBaseApi;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.ext.web.Router;

/**
 * The knowledge-base API (`/v1/knowledge-bases/...`: create, upload with progress, documents, delete,
 * retrieval test) for server-to-server callers: the tenant's API key authenticates, then the rag
 * module's routes run scoped to that tenant, within the key's and the tenant's API rate limits.
 */
public final class KnowledgeBaseModule implements HttpModule {

  private final ApiKeyAuth auth;
  private final KnowledgeBaseApi rag;
  private final RequestLimits limits;

  public KnowledgeBaseModule(ApiKeyAuth auth, KnowledgeBaseApi rag, RequestLimits limits) {
    this.auth = auth;
    this.rag = rag;
    this.limits = limits;
  }

  @Override
  public void mount(Router router) {
    // the collection itself ("/v1/knowledge-bases") is the sub-router's "/"
    router.route("/v1/knowledge-bases").handler(ctx -> {
      if (ctx.request().path().endsWith("/")) {
        ctx.next();
      } else {
        ctx.reroute(ctx.request().method(), "/v1/knowledge-bases/");
      }
    });
    // the key's bucket before its lookup, then the tenant's API channel; the rag router's body handler
    // resumes the request
    router.route("/v1/knowledge-bases/*").handler(ctx -> Authenticated.first(ctx,
        c -> RateLimited.admitted(limits, auth, c), caller -> ctx.put("tenantId", caller.tenantId())));
    router.route("/v1/knowledge-bases/*").subRouter(rag.router());
  }
}
