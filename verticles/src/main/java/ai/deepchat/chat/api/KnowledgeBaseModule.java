package ai.deepchat.chat.api;

import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.rag.Rag;
import io.vertx.ext.web.Router;

/**
 * The knowledge-base API (`/v1/knowledge-bases/...`: create, upload with progress, documents, delete,
 * retrieval test) for server-to-server callers: the tenant's API key authenticates, then the rag
 * module's routes run scoped to that tenant.
 */
public final class KnowledgeBaseModule implements HttpModule {

  private final ApiKeyAuth auth;
  private final Rag rag;

  public KnowledgeBaseModule(ApiKeyAuth auth, Rag rag) {
    this.auth = auth;
    this.rag = rag;
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
    // the rag router's body handler resumes the request
    router.route("/v1/knowledge-bases/*").handler(ctx -> Authenticated.first(ctx, auth::authenticate,
        caller -> ctx.put("tenantId", caller.tenantId())));
    router.route("/v1/knowledge-bases/*").subRouter(rag.router());
  }
}
