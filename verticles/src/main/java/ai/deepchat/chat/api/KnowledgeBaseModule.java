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
    router.route("/v1/knowledge-bases/*").handler(ctx -> {
      ctx.request().pause();
      auth.authenticate(ctx).onComplete(ar -> {
        ctx.request().resume();
        if (ar.failed()) {
          HttpProblem.of(ar.cause()).send(ctx);
        } else {
          ctx.put("tenantId", ar.result().tenantId());
          ctx.next();
        }
      });
    });
    router.route("/v1/knowledge-bases/*").subRouter(rag.router());
  }
}
