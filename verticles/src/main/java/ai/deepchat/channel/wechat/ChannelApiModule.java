package ai.deepchat.channel.wechat;

import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.Authenticated;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.chat.api.StrictJson;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.UUID;
import java.util.function.Function;

/**
 * {@code /v1/channels}: a tenant's WeChat and WeCom channels for its API keys (docs/channels.md). Secrets
 * go in, never out.
 */
final class ChannelApiModule implements HttpModule {

  private static final String CALLER = "channels.caller";
  private static final long MAX_BODY = 16 * 1024;

  private final ApiKeyAuth auth;
  private final RequestLimits limits;
  private final ChannelSettings settings;

  ChannelApiModule(ApiKeyAuth auth, RequestLimits limits, ChannelSettings settings) {
    this.auth = auth;
    this.limits = limits;
    this.settings = settings;
  }

  @Override
  public void mount(Router router) {
    router.route("/v1/channels*").handler(ctx -> Authenticated.first(ctx, c -> RateLimited.admitted(limits, auth, c),
        caller -> ctx.put(CALLER, caller)));
    router.route("/v1/channels*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));
    router.get("/v1/channels").handler(ctx -> reply(ctx, 200,
        settings.list(caller(ctx).tenantId()).map(list -> new JsonObject().put("object", "list").put("data", list))));
    router.post("/v1/channels").handler(ctx -> reply(ctx, 201, body(ctx, json ->
        settings.create(caller(ctx).tenantId(), json, actor(ctx), ip(ctx)))));
    router.patch("/v1/channels/:id").handler(ctx -> reply(ctx, 200, body(ctx, json ->
        settings.update(caller(ctx).tenantId(), id(ctx), json, actor(ctx), ip(ctx)))));
    router.delete("/v1/channels/:id").handler(ctx -> {
      try {
        settings.delete(caller(ctx).tenantId(), id(ctx), actor(ctx), ip(ctx))
            .onSuccess(v -> ctx.response().setStatusCode(204).end())
            .onFailure(err -> HttpProblem.of(err).send(ctx));
      } catch (HttpProblem p) {
        p.send(ctx);
      }
    });
  }

  private static Future<JsonObject> body(RoutingContext ctx, Function<JsonObject, Future<JsonObject>> work) {
    try {
      return work.apply(StrictJson.object(ctx.body().buffer()));
    } catch (HttpProblem p) {
      return Future.failedFuture(p);
    }
  }

  private static void reply(RoutingContext ctx, int status, Future<JsonObject> result) {
    result.onSuccess(json -> ctx.response().setStatusCode(status)
            .putHeader("Content-Type", "application/json; charset=utf-8").end(json.encode()))
        .onFailure(err -> HttpProblem.of(err).send(ctx));
  }

  private static ApiKeyAuth.Caller caller(RoutingContext ctx) {
    return ctx.get(CALLER);
  }

  private static String actor(RoutingContext ctx) {
    return "apikey:" + caller(ctx).keyId();
  }

  private static UUID id(RoutingContext ctx) {
    try {
      return UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw HttpProblem.notFound("channel_not_found", "No such channel.");
    }
  }

  private static String ip(RoutingContext ctx) {
    return ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
  }
}
