package ai.deepchat.chat.api;

import ai.deepchat.chat.dispatch.BackendSpec;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.ModelDispatcher;
import ai.deepchat.chat.dispatch.TenantModelDispatcher;
import ai.deepchat.gateway.StreamLimitHandler;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict;
import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.policy.moderation.StreamingModerator;
import ai.deepchat.policy.moderation.TenantModeration;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;

/**
 * The legacy OpenAI {@code POST /v1/completions}: a raw prompt, without the chat template, the
 * workspace's system prompt, FAQ or knowledge base, straight to the chosen model version on the local
 * engine. Same API keys, rate limits and stream slots as the chat endpoint; the workspace's word list
 * checks the prompt and watches the answer as for chat. Answers are not stored as conversations.
 */
public final class TextCompletionsModule implements HttpModule {

  private static final Logger LOG = LoggerFactory.getLogger(TextCompletionsModule.class);
  private static final String CALLER = "deepchat.completions.caller";

  private final Platform platform;
  private final ApiKeyAuth auth;
  private final RequestLimits limits;
  private final ModerationService moderation;
  private final ModelDispatcher models;
  private final Backends backends;

  public TextCompletionsModule(Vertx vertx, Platform platform, RequestLimits limits, ModerationService moderation) {
    this.platform = platform;
    this.limits = limits;
    this.moderation = moderation;
    this.auth = new ApiKeyAuth(platform.database());
    this.models = new TenantModelDispatcher(platform.database(), platform.config());
    this.backends = new Backends(vertx, platform.config().chat(), OutboundPolicy.of(platform.config()));
  }

  @Override
  public void mount(Router router) {
    // as /v1/chat/completions: who is asking before the body is read
    router.post("/v1/completions")
        .handler(ctx -> Authenticated.first(ctx, auth::authenticate, caller -> ctx.put(CALLER, caller)));
    router.post("/v1/completions")
        .handler(BodyHandler.create(false).setBodyLimit(platform.config().chat().maxBodyBytes()))
        .handler(this::complete);
  }

  private void complete(RoutingContext ctx) {
    TextCompletionRequest request;
    try {
      request = TextCompletionRequest.parse(StrictJson.object(ctx.body().buffer()),
          platform.config().chat().maxChoices());
    } catch (HttpProblem p) {
      RateLimited.withinLimits(limits, ctx, ctx.get(CALLER)).onComplete(ar -> {
        if (ar.failed()) {
          RateLimited.send(ctx, ar.cause());
        } else {
          p.send(ctx);
        }
      });
      return;
    }
    if (!StreamLimitHandler.admit(ctx)) {
      return;
    }
    RateLimited.withinLimits(limits, ctx, ctx.get(CALLER))
        .compose(caller -> moderation.forTenant(caller.tenantId())
            .recover(err -> {
              // as the chat pipeline: a word list out of reach does not stop the API
              LOG.warn("moderation unavailable for tenant {} ({}); prompt passed unchecked", caller.tenantId(),
                  err.toString());
              return Future.succeededFuture(null);
            })
            .compose(policy -> models.choose(caller.tenantId(), null, request.model())
                .map(model -> new Admitted(caller.tenantId(), policy, model))))
        .onFailure(err -> RateLimited.send(ctx, err))
        .onSuccess(admitted -> run(ctx, request, admitted));
  }

  private record Admitted(UUID tenantId, TenantModeration policy, ModelChoice model) {
  }

  private void run(RoutingContext ctx, TextCompletionRequest request, Admitted a) {
    if (a.model().primary().kind() != BackendSpec.Kind.LOCAL) {
      HttpProblem.badRequest("model_not_supported", "The model '" + a.model().name()
          + "' runs on a remote backend; /v1/completions serves local models only.").send(ctx);
      return;
    }
    ModerationVerdict verdict = a.policy() == null ? null : a.policy().checkInput(request.prompt());
    String prompt = verdict == null || verdict.action() == ModerationVerdict.Action.ALLOW ? request.prompt()
        : verdict.text();
    // the local engine only: a remote fallback would not take a raw prompt
    ModelChoice local = new ModelChoice(a.model().versionId(), a.model().name(), a.model().primary(), null,
        a.model().contextTokens(), a.model().testModel());
    String id = "cmpl-" + UUID.randomUUID();
    TextCompletionRun run = new TextCompletionRun(ctx, request, id, a.model().name(),
        a.policy() == null ? null : a.policy().blockedReply());
    if (verdict != null && verdict.blocked()) {
      run.refused(verdict.text());
      return;
    }
    for (int i = 0; i < request.sampling().n(); i++) {
      StreamingModerator moderator = a.policy() == null ? null : a.policy().outputModerator();
      var listener = run.choice(i, moderator, request.echo() ? prompt : "",
          PlatformMetrics.get().startStream(a.tenantId().toString(), a.model().metricsLabel()));
      listener.attach(backends.forChoice(local).start(id + "-" + i, a.tenantId().toString(),
          List.of(ChatMessage.rawPrompt(prompt)), Choices.sampling(request.sampling(), i), listener));
    }
    ctx.response().closeHandler(v -> run.cancel());
  }

  /** The text_completion envelope of every response and chunk. */
  static JsonObject envelope(String id, String model) {
    return new JsonObject().put("id", id).put("object", "text_completion")
        .put("created", System.currentTimeMillis() / 1000).put("model", model);
  }

  static JsonObject usage(Usage u) {
    return new JsonObject().put("prompt_tokens", u.promptTokens()).put("completion_tokens", u.completionTokens())
        .put("total_tokens", u.promptTokens() + u.completionTokens());
  }
}
