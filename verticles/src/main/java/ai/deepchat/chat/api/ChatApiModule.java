package ai.deepchat.chat.api;

import ai.deepchat.chat.conversation.Citations;
import ai.deepchat.chat.conversation.FaqMatchJson;
import ai.deepchat.chat.conversation.TraceJson;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.ModelDispatcher;
import ai.deepchat.chat.dispatch.ModelNames;
import ai.deepchat.chat.dispatch.TenantModelDispatcher;
import ai.deepchat.gateway.StreamLimitHandler;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The OpenAI-compatible API: {@code POST /v1/chat/completions} (streamed as SSE chunks or answered
 * whole; DeepSeek-R1 thinking as {@code reasoning_content}; {@code citations} when the knowledge base
 * answered) and {@code GET /v1/models}. Authenticated with tenant API keys; an {@code Idempotency-Key}
 * header makes retries safe; {@code X-DeepChat-Trace: 1} adds the turn's trace ({@code deepchat_trace}).
 */
public final class ChatApiModule implements HttpModule {

  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7e]{1,200}");
  private static final String CALLER = "deepchat.api.caller";
  static final String TRACE_HEADER = "X-DeepChat-Trace";
  static final String TRACE_FIELD = "deepchat_trace";

  private final Platform platform;
  private final ApiKeyAuth auth;
  private final ModelDispatcher models;
  private final TurnClient turns;
  private final RequestLimits limits;

  public ChatApiModule(Vertx vertx, Platform platform, RequestLimits limits) {
    this.platform = platform;
    this.limits = limits;
    this.auth = new ApiKeyAuth(platform.database());
    this.models = new TenantModelDispatcher(platform.database(), platform.config());
    var chat = platform.config().chat();
    this.turns = new TurnClient(vertx, chat.requestTimeoutMs(), chat.idleTimeoutMs());
  }

  @Override
  public void mount(Router router) {
    // who is asking before the body is read: an anonymous client buffers nothing and holds no slot
    // (a route of its own: Vert.x wants a route's body handler before its other handlers)
    router.post("/v1/chat/completions")
        .handler(ctx -> Authenticated.first(ctx, auth::authenticate, caller -> ctx.put(CALLER, caller)));
    router.post("/v1/chat/completions")
        .handler(BodyHandler.create(false).setBodyLimit(platform.config().chat().maxBodyBytes()))
        .handler(this::completions);
    router.get("/v1/models").handler(this::listModels);
    router.get("/v1/models/:model").handler(this::getModel);
  }

  private void getModel(RoutingContext ctx) {
    String name = ctx.pathParam("model");
    admitted(ctx)
        .compose(caller -> models.available(caller.tenantId()))
        .onSuccess(list -> list.stream().filter(m -> m.name().equals(name)).findFirst()
            .or(() -> ModelNames.defaultAlias(name) ? Optional.of(models.platformDefault()) : Optional.empty())
            .ifPresentOrElse(m -> ctx.json(describe(m).put("id", name)),
            () -> HttpProblem.notFound("model_not_found", "The model '" + name + "' does not exist.").send(ctx)))
        .onFailure(err -> sendFailure(ctx, err));
  }

  /** The authenticated caller, within its API key's and tenant's rate limits. */
  private Future<ApiKeyAuth.Caller> admitted(RoutingContext ctx) {
    return RateLimited.admitted(limits, auth, ctx);
  }

  /** The authenticated caller, when its key and its tenant's API channel still have room. */
  private Future<ApiKeyAuth.Caller> withinLimits(RoutingContext ctx) {
    return RateLimited.withinLimits(limits, ctx, ctx.get(CALLER));
  }

  private static void sendFailure(RoutingContext ctx, Throwable err) {
    RateLimited.send(ctx, err);
  }

  private static JsonObject describe(ModelChoice m) {
    return new JsonObject().put("id", m.name()).put("object", "model").put("created", 0)
        .put("owned_by", m.versionId() == null ? "deepchat" : "tenant")
        .put("test_model", m.testModel()).put("notice", m.notice());
  }

  private void listModels(RoutingContext ctx) {
    admitted(ctx)
        .compose(caller -> models.available(caller.tenantId()))
        .onSuccess(list -> {
          JsonArray data = new JsonArray();
          for (ModelChoice m : list) {
            data.add(describe(m));
          }
          ctx.json(new JsonObject().put("object", "list").put("data", data));
        })
        .onFailure(err -> sendFailure(ctx, err));
  }

  private void completions(RoutingContext ctx) {
    long receivedAtMicros = EngineStamp.nowMicros(); // the platform's added time to first token starts here
    CompletionRequest request;
    String conversationId;
    String idempotencyKey = ctx.request().getHeader("Idempotency-Key");
    try {
      if (idempotencyKey != null && !IDEMPOTENCY_KEY.matcher(idempotencyKey).matches()) {
        throw HttpProblem.badRequest("invalid_idempotency_key",
            "Idempotency-Key must be 1 to 200 visible ASCII characters.");
      }
      JsonObject body = StrictJson.object(ctx.body().buffer());
      request = CompletionRequest.parse(body, platform.config().chat().defaultMaxTokens(),
          platform.config().chat().maxChoices());
      conversationId = ApiConversation.of(body, ctx.request().getHeader(ApiConversation.HEADER));
      if (conversationId != null && request.sampling().n() > 1) {
        // each choice is a turn of its own: n answers to one question cannot all continue one conversation
        throw HttpProblem.badRequest("invalid_n", "'n' must be 1 when the turn continues a conversation.");
      }
    } catch (HttpProblem p) {
      // a bad body counts like any request, or a flood of them would escape the limits (an oversize
      // one never gets here: 413 from the body handler, nothing charged)
      withinLimits(ctx).onComplete(ar -> {
        if (ar.failed()) {
          sendFailure(ctx, ar.cause());
        } else {
          p.send(ctx);
        }
      });
      return;
    }
    // the stream slot only now, for an authenticated caller whose whole body arrived and parsed; before
    // the rate limit, so a request refused for want of a slot costs the caller none of its quota
    if (!StreamLimitHandler.admit(ctx)) {
      return;
    }
    withinLimits(ctx).onFailure(err -> sendFailure(ctx, err)).onSuccess(caller -> {
      // n choices are n turns of the same request: each runs the whole pipeline (moderation, storage,
      // its own seed) as its own conversation; see docs/api.md ("n")
      List<TurnClient.Stream> streams = new ArrayList<>();
      for (int i = 0; i < request.sampling().n(); i++) {
        TurnRequest turn = new TurnRequest(UUID.randomUUID().toString(), caller.tenantId().toString(),
            ChatMessages.CHANNEL_API, conversationId, request.user(), choiceKey(idempotencyKey, i), request.messages(),
            request.model(), Choices.sampling(request.sampling(), i), null, traceAsked(ctx),
            request.tools()); // events address: set by TurnClient
        streams.add(turns.start(turn, receivedAtMicros));
      }
      ctx.response().closeHandler(v -> streams.forEach(TurnClient.Stream::cancel));
      Future.all(streams.stream().map(TurnClient.Stream::ack).toList())
          .onFailure(err -> {
            streams.forEach(TurnClient.Stream::cancel);
            HttpProblem.of(err).send(ctx);
          })
          .onSuccess(all -> {
            List<TurnAck> acks = all.list();
            if (request.stream()) {
              streamAnswer(ctx, streams, acks);
            } else {
              wholeAnswer(ctx, request, streams, acks.get(0));
            }
          });
    });
  }

  /** Choice 0 keeps the client's Idempotency-Key, so a one-choice retry replays as before. */
  private static String choiceKey(String idempotencyKey, int choice) {
    return idempotencyKey == null ? null : "api:" + idempotencyKey + (choice == 0 ? "" : "#" + choice);
  }

  private void wholeAnswer(RoutingContext ctx, CompletionRequest request, List<TurnClient.Stream> streams,
                           TurnAck ack) {
    Future.all(streams.stream().map(TurnClient.Stream::whole).toList()).onSuccess(all -> {
      List<TurnClient.WholeAnswer> wholes = all.list();
      for (TurnClient.WholeAnswer whole : wholes) {
        if (whole.last().kind() == TurnEvent.Kind.ERROR) {
          streams.forEach(TurnClient.Stream::cancel);
          backendProblem(whole.last()).send(ctx);
          return;
        }
      }
      JsonArray choices = new JsonArray();
      for (int i = 0; i < wholes.size(); i++) {
        TurnClient.WholeAnswer whole = wholes.get(i);
        JsonObject message = new JsonObject().put("role", "assistant").put("content", whole.content());
        if (!whole.toolCalls().isEmpty()) {
          // only calls: content null, as OpenAI sends it
          message.put("content", whole.content().isEmpty() ? null : whole.content())
              .put("tool_calls", ToolCallJson.calls(whole.toolCalls()));
        }
        if (!whole.reasoning().isEmpty()) {
          // both names: vLLM renamed reasoning_content to reasoning, and clients read either
          message.put("reasoning_content", whole.reasoning()).put("reasoning", whole.reasoning());
        }
        choices.add(new JsonObject().put("index", i).put("message", message)
            .put("logprobs", request.sampling().logprobs() ? LogprobsJson.content(whole.logprobs()) : null)
            .put("finish_reason", whole.last().finishReason()));
      }
      TurnClient.WholeAnswer first = wholes.get(0);
      TurnEvent event = first.last();
      ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
          .end(withTrace(FaqMatchJson.addTo(envelope(ack, "chat.completion"), event), event)
              .put("choices", choices)
              .put("usage", usage(Choices.usage(wholes.stream().map(w -> w.last().usage()).toList())))
              .put("citations", Citations.toJson(first.citations()))
              .put("intent", event.intent())
              .encode());
    });
  }

  private void streamAnswer(RoutingContext ctx, List<TurnClient.Stream> streams, List<TurnAck> acks) {
    HttpServerResponse resp = ctx.response();
    resp.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no");
    SseBody out = SseBody.of(ctx.request(), resp);
    ctx.addEndHandler(v -> out.release()); // the client may leave before the end
    // every chunk of a completion carries the same id, created and model (as OpenAI's do), so the part
    // of a delta chunk before the delta is encoded once per stream, not once per token
    JsonObject envelope = envelope(acks.get(0), "chat.completion.chunk");
    String encoded = envelope.encode();
    String prefix = "data: " + encoded.substring(0, encoded.length() - 1) + ",\"choices\":[{\"index\":";
    int n = streams.size();
    Usage[] usages = new Usage[n];
    int[] open = {n};
    JsonObject[] closing = new JsonObject[1];
    for (int i = 0; i < n; i++) {
      out.write(ChoiceChunks.opening(prefix + i));
    }
    for (int i = 0; i < n; i++) {
      int index = i;
      TurnClient.Stream stream = streams.get(i);
      String choicePrefix = prefix + index;
      DeltaChunk.Bytes deltas = new DeltaChunk.Bytes(choicePrefix + ",\"delta\":");
      // an SSE comment: clients skip it, proxies see a live connection while the answer is held back
      stream.keepAliveHandler(() -> {
        if (!resp.ended() && !resp.closed()) {
          out.write(": keep-alive\n\n");
        }
      });
      stream.handler(event -> {
        if (resp.ended() || resp.closed()) {
          return;
        }
        switch (event.kind()) {
          case DELTA -> out.write(deltas.encode(event), deltas.length());
          case CITATIONS -> out.write("data: " + envelope.copy()
              .put("choices", new JsonArray().add(new JsonObject().put("index", index).put("delta", new JsonObject())))
              .put("citations", Citations.toJson(event.citations())).encode() + "\n\n");
          case ERROR -> {
            streams.forEach(TurnClient.Stream::cancel);
            HttpProblem p = backendProblem(event);
            out.write("data: " + new JsonObject().put("error", new JsonObject().put("message", p.getMessage())
                .put("type", p.type()).put("code", p.code())).encode() + "\n\n");
            out.end("data: [DONE]\n\n");
          }
          case DONE -> {
            String finish = ChoiceChunks.finish(choicePrefix, event.finishReason());
            usages[index] = event.usage();
            if (index == 0) { // choice 0's intent, FAQ match and trace close the stream
              closing[0] = withTrace(FaqMatchJson.addTo(envelope.copy(), event), event).put("intent", event.intent());
            }
            if (--open[0] == 0) {
              // the last choice's finish, the usage and [DONE] leave together: one write, one chunk (#25)
              out.end(finish + "data: " + closing[0].put("choices", new JsonArray())
                  .put("usage", usage(Choices.usage(Arrays.asList(usages)))).encode() + "\n\n" + "data: [DONE]\n\n");
            } else {
              out.write(finish);
            }
          }
        }
      });
    }
  }

  private static JsonObject envelope(TurnAck ack, String object) {
    return new JsonObject().put("id", "chatcmpl-" + ack.assistantMessageId()).put("object", object)
        .put("created", System.currentTimeMillis() / 1000).put("model", ack.model())
        .put("conversation_id", ack.conversationId());
  }

  /**
   * Whether the caller asked for the turn's trace: {@code X-DeepChat-Trace: 1} (or true). Opt-in, so an
   * ordinary call builds, stores and sends none.
   */
  static boolean traceAsked(RoutingContext ctx) {
    String h = ctx.request().getHeader(TRACE_HEADER);
    return h != null && (h.strip().equals("1") || h.strip().equalsIgnoreCase("true"));
  }

  /** {@code body} with the DONE event's trace; without the field when the turn did not ask for one. */
  private static JsonObject withTrace(JsonObject body, TurnEvent event) {
    return event.trace() == null ? body : body.put(TRACE_FIELD, TraceJson.toJson(event.trace()));
  }

  private static JsonObject usage(Usage u) {
    Usage usage = u == null ? new Usage(0, 0) : u;
    return new JsonObject().put("prompt_tokens", usage.promptTokens())
        .put("completion_tokens", usage.completionTokens())
        .put("total_tokens", usage.promptTokens() + usage.completionTokens());
  }

  /** A generation that failed after the turn was accepted: the model, not the request, is at fault. */
  static HttpProblem backendProblem(TurnEvent event) {
    return backendProblem(event.errorCode(), event.error());
  }

  static HttpProblem backendProblem(String code, String message) {
    // unavailable (503) and timed out (504) keep their status; any other failure after acceptance is 502
    int status = BusFailure.ofApiCode(code)
        .filter(f -> f.httpStatus() > BusFailure.BACKEND_ERROR.httpStatus())
        .orElse(BusFailure.BACKEND_ERROR).httpStatus();
    return new HttpProblem(status, "server_error", code, message);
  }

}
