package ai.deepchat.export;

import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.Authenticated;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code GET /v1/conversations/export} (API key): the workspace's conversations as CSV or JSON Lines,
 * filtered by date, intent, rating and channel (docs/api.md, "Conversation export"), streamed.
 */
public final class ExportApiModule implements HttpModule {

  private static final String CALLER = "export.caller";

  private final ApiKeyAuth auth;
  private final RequestLimits limits;
  private final ConversationExport export;

  public ExportApiModule(ApiKeyAuth auth, RequestLimits limits, ConversationExport export) {
    this.auth = auth;
    this.limits = limits;
    this.export = export;
  }

  @Override
  public void mount(Router router) {
    router.get("/v1/conversations/export").handler(ctx -> Authenticated.first(ctx,
        c -> RateLimited.admitted(limits, auth, c), caller -> ctx.put(CALLER, caller)));
    // the body handler resumes the request paused by the authentication (a GET has no body)
    router.get("/v1/conversations/export").handler(BodyHandler.create(false).setBodyLimit(0)).handler(this::export);
  }

  private void export(RoutingContext ctx) {
    ExportFilter filter;
    ExportFormat format;
    try {
      filter = ExportFilter.parse(ctx.queryParams());
      format = ExportFormat.named(ctx.queryParams().get("format"));
    } catch (ExportFilter.Invalid e) {
      HttpProblem.badRequest("invalid_" + e.param().replaceAll("[^a-z_]", ""), e.getMessage()).send(ctx);
      return;
    }
    ApiKeyAuth.Caller caller = ctx.get(CALLER);
    String ip = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
    export.stream(caller.tenantId(), filter, format, "apikey:" + caller.keyId(), ip, ctx.response())
        .onFailure(err -> {
          if (err instanceof ConversationExport.Busy) {
            ctx.response().putHeader("Retry-After", String.valueOf(ConversationExport.Busy.RETRY_AFTER_SECONDS));
            new HttpProblem(429, "rate_limit_error", "too_many_exports", err.getMessage()).send(ctx);
            return;
          }
          HttpProblem.of(err).send(ctx);
        });
  }
}
