package ai.deepchat.chat.widget;

import ai.deepchat.canary.CanaryServices;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.chat.api.Authenticated;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.gateway.StreamLimitHandler;
import ai.deepchat.handoff.HandoffException;
import ai.deepchat.handoff.HandoffNode;
import ai.deepchat.handoff.Handoffs;
import ai.deepchat.chat.api.RateLimited;
import ai.deepchat.policy.ratelimit.RequestLimits;
import ai.deepchat.chat.api.StrictJson;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.chat.dispatch.CanaryModelDispatcher;
import ai.deepchat.chat.dispatch.ModelDispatcher;
import ai.deepchat.chat.dispatch.TenantModelDispatcher;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * The widget's endpoints (see the widget protocol in docs/api.md): config, session (visitor tokens),
 * history, feedback, ratings, and chat over a WebSocket or, as a fallback, SSE. Every request from a browser is
 * checked against the tenant's exact origin allow-list; CORS headers name only allowed origins.
 */
public final class WidgetModule implements HttpModule {

  static final long MAX_BODY = 64 * 1024;
  private static final String VISITOR = "deepchat.widget.visitor";

  private final Platform platform;
  private final VisitorTokens tokens;
  private final VisitorGate gate;
  private final VisitorSockets sockets;
  private final VisitorConversations conversations;
  private final VisitorRatings ratings;
  private final ModelDispatcher models;
  private final WidgetTurns turns;
  private final CanaryServices canary;
  private final NewVisitors newVisitors;
  private final RefusedOrigins refused;
  private final Handoffs handoffs;

  /**
   * One gateway instance's widget endpoints (no I/O here: built on the instance's event loop).
   * {@code canary}: where ratings of a model version's answers are reported; null without rollout
   * routing. {@code tokenSecret}: {@code JwtSecret.resolve}, read once per node. {@code sockets}:
   * the node's open sockets ({@link VisitorSockets#listen}, once per node).
   */
  public WidgetModule(Vertx vertx, Platform platform, RequestLimits limits, CanaryServices canary,
                      String tokenSecret, VisitorSockets sockets) {
    this.canary = canary;
    this.platform = platform;
    this.tokens = new VisitorTokens(vertx, tokenSecret);
    this.gate = new VisitorGate(tokens, platform.database());
    this.sockets = sockets;
    this.conversations = new VisitorConversations(platform.database());
    this.ratings = new VisitorRatings(platform.database());
    TenantModelDispatcher plain = new TenantModelDispatcher(platform.database(), platform.config());
    // the test-model notice follows what actually serves, a platform-wide registered version included
    this.models = canary == null ? plain : new CanaryModelDispatcher(platform.database(), canary.chooser(), plain);
    var chat = platform.config().chat();
    this.handoffs = HandoffNode.of(vertx, platform).handoffs();
    this.turns = new WidgetTurns(new TurnClient(vertx, chat.requestTimeoutMs(), chat.idleTimeoutMs()), limits, handoffs);
    this.newVisitors = new NewVisitors(limits, platform.config().policy());
    this.refused = RefusedOrigins.of(vertx, platform.database());
  }

  @Override
  public void mount(Router router) {
    router.options("/widget/*").handler(this::preflight);
    router.get("/widget/config").handler(this::config);
    router.post("/widget/session").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::session);
    router.get("/widget/history").handler(this::history);
    router.post("/widget/feedback").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::feedback);
    router.post("/widget/rating").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::rating);
    // the visitor before the body, the body before the stream slot (see Authenticated)
    router.post("/widget/chat").handler(ctx -> Authenticated.first(ctx, this::visitor, v -> ctx.put(VISITOR, v)));
    router.post("/widget/chat").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::chatSse);
    router.get("/widget/ws").handler(new WidgetSocket(gate, turns, sockets, handoffs)::upgrade);
    router.post("/widget/handoff").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::handoff);
    router.post("/widget/tickets").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).handler(this::ticket);
  }

  /**
   * Preflights carry no credentials, so they name no tenant: they pass when some tenant's widget allows
   * the origin. The request that follows is checked against its own tenant's list before it does anything.
   */
  private void preflight(RoutingContext ctx) {
    String origin = ctx.request().getHeader("Origin");
    if (origin == null) {
      HttpProblem.forbidden("origin_not_allowed", "CORS preflight without an Origin.").send(ctx);
      return;
    }
    platform.database().global(c -> c.preparedQuery("SELECT widget_origin_allowed($1)")
            .execute(Tuple.of(WidgetOrigin.normalize(origin))).map(rows -> rows.iterator().next().getBoolean(0)))
        .onSuccess(allowed -> {
          if (!allowed) {
            HttpProblem.forbidden("origin_not_allowed", "The origin " + origin + " may not use this widget.").send(ctx);
            return;
          }
          ctx.response().setStatusCode(204)
              .putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin")
              .putHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
              .putHeader("Access-Control-Allow-Headers", "Authorization, Content-Type")
              .putHeader("Access-Control-Max-Age", "600").end();
        })
        .onFailure(err -> HttpProblem.of(err).send(ctx));
  }

  /**
   * The widget's first request. A refused origin is recorded for the console, and the refusal is readable
   * by the page (it names only the page's own origin), so the widget can say in the browser console why it
   * does not appear instead of failing on a bare CORS error.
   */
  private void config(RoutingContext ctx) {
    String origin = ctx.request().getHeader("Origin");
    keySettings(ctx.request().getParam("key"))
        .compose(s -> {
          if (origin != null && !s.allows(origin)) {
            refused.record(s.tenantId(), origin);
            ctx.response().putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin");
          }
          s.checkOrigin(origin, false, ctx.response());
          return models.choose(s.tenantId(), null, null).map(model -> new JsonObject()
              .put("title", s.title()).put("greeting", s.greeting()).put("primaryColor", s.primaryColor())
              .put("language", s.language()).put("position", s.position())
              .put("testModel", model.testModel()).put("notice", model.notice()));
        })
        .onSuccess(ctx::json)
        .onFailure(err -> HttpProblem.of(err).send(ctx));
  }

  private void session(RoutingContext ctx) {
    JsonObject body;
    try {
      body = StrictJson.object(ctx.body().buffer());
    } catch (HttpProblem p) {
      p.send(ctx);
      return;
    }
    String key = body.getValue("key") instanceof String k ? k : null;
    String presented = body.getValue("visitorToken") instanceof String t ? t : null;
    keySettings(key)
        .compose(s -> {
          s.checkOrigin(ctx.request().getHeader("Origin"), true, ctx.response());
          // a token of another tenant is refused; an expired, revoked (rotated key, erased visitor) or
          // forged one starts a new visitor
          Future<String> visitorId = presented == null ? Future.succeededFuture(null)
              : tokens.verify(presented).compose(v -> {
                if (!v.tenantId().equals(s.tenantId())) {
                  throw HttpProblem.forbidden("wrong_tenant", "This visitor token belongs to another widget.");
                }
                return WidgetSettings.forVisitor(platform.database(), v).map(x -> v.visitorId());
              }).recover(err -> err instanceof HttpProblem p && p.status() == 403
                  ? Future.failedFuture(err) : Future.succeededFuture(null));
          return visitorId.compose(vid -> {
            Future<String> id = vid != null ? Future.succeededFuture(vid) : newVisitors.mint(ctx, s.tenantId());
            return id.compose(v -> {
              VisitorTokens.Visitor visitor = new VisitorTokens.Visitor(s.tenantId(), v,
                  VisitorTokens.keyTag(s.publicKey()));
              return conversations.latest(visitor).map(conv -> new JsonObject()
                  .put("visitorToken", tokens.issue(visitor.tenantId(), visitor.visitorId(), s.publicKey()))
                  .put("visitorId", visitor.visitorId())
                  .put("conversationId", conv == null ? null : conv.toString()));
            });
          });
        })
        .onSuccess(ctx::json)
        .onFailure(err -> RateLimited.send(ctx, err));
  }

  private void history(RoutingContext ctx) {
    UUID conversationId;
    try {
      String raw = ctx.request().getParam("conversationId");
      conversationId = raw == null || raw.isBlank() ? null : UUID.fromString(raw);
    } catch (IllegalArgumentException e) {
      HttpProblem.badRequest("invalid_conversation_id", "'conversationId' must be a UUID.").send(ctx);
      return;
    }
    // the handoff state too, so a reloaded widget shows its place in the queue or its agent at once
    visitor(ctx).compose(v -> conversations.history(v, conversationId).compose(h -> h.getString("conversationId") == null
            ? Future.succeededFuture(h)
            : handoffs.status(v.tenantId(), UUID.fromString(h.getString("conversationId"))).map(s -> h.put("handoff", s))))
        .onSuccess(ctx::json)
        .onFailure(err -> HttpProblem.of(err).send(ctx));
  }

  private void feedback(RoutingContext ctx) {
    visitor(ctx).compose(v -> {
          JsonObject body = StrictJson.object(ctx.body().buffer());
          UUID messageId;
          try {
            messageId = UUID.fromString((String) body.getValue("messageId"));
          } catch (ClassCastException | IllegalArgumentException | NullPointerException e) {
            throw HttpProblem.badRequest("invalid_message_id", "'messageId' must be a UUID.");
          }
          Object value = body.getValue("value");
          if (!(value instanceof Integer i) || (i != 1 && i != -1)) {
            throw HttpProblem.badRequest("invalid_value", "'value' must be 1 or -1.");
          }
          int rating = (Integer) value;
          return conversations.feedback(v, messageId, rating, VisitorRatings.comment(body)).onSuccess(version -> {
            reportFeedback(v, version, rating);
            if (rating < 0) {
              handoffs.afterNegativeFeedback(v.tenantId(), v.visitorId(), messageId);
            }
          });
        })
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(err -> HttpProblem.of(err).send(ctx));
  }

  /** A conversation's 1-5 rating after staff resolved it: 201 {id}, once per resolution. */
  private void rating(RoutingContext ctx) {
    visitor(ctx).compose(v -> ratings.rate(v, VisitorRatings.Rating.parse(StrictJson.object(ctx.body().buffer()))))
        .onSuccess(id -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json; charset=utf-8")
            .end(new JsonObject().put("id", id.toString()).encode()))
        .onFailure(err -> HttpProblem.of(err).send(ctx));
  }

  /** The widget's "talk to a person" button: queues the visitor's conversation (docs/api.md, "Human handoff"). */
  private void handoff(RoutingContext ctx) {
    visitor(ctx).compose(v -> {
          JsonObject body = StrictJson.object(ctx.body().buffer());
          // no conversation yet (the visitor has not written): one is created for the handoff
          return body.getValue("conversation_id") == null ? handoffs.escalateNew(v.tenantId(), v.visitorId(), "button")
              : handoffs.escalate(v.tenantId(), v.visitorId(), handoffId(body), "button");
        })
        .onSuccess(ctx::json)
        .onFailure(err -> handoffProblem(err).send(ctx));
  }

  /** A message and contact details left for the staff (outside business hours, or instead of waiting). */
  private void ticket(RoutingContext ctx) {
    visitor(ctx).compose(v -> handoffs.ticket(v.tenantId(), v.visitorId(), StrictJson.object(ctx.body().buffer())))
        .onSuccess(id -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("id", id.toString()).encode()))
        .onFailure(err -> handoffProblem(err).send(ctx));
  }

  private static UUID handoffId(JsonObject body) {
    try {
      return UUID.fromString((String) body.getValue("conversation_id"));
    } catch (ClassCastException | IllegalArgumentException | NullPointerException e) {
      throw HttpProblem.badRequest("invalid_conversation_id", "'conversation_id' must be a UUID.");
    }
  }

  private static HttpProblem handoffProblem(Throwable err) {
    return err instanceof HandoffException h ? new HttpProblem(h.status(),
        h.status() == 409 ? "conflict_error" : h.status() == 403 ? "permission_error" : "invalid_request_error",
        h.code(), h.getMessage()) : HttpProblem.of(err);
  }

  /** The rating counts toward the version's metrics (rollout comparisons); the visitor is not kept waiting. */
  private void reportFeedback(VisitorTokens.Visitor visitor, UUID versionId, int value) {
    if (canary == null || versionId == null) {
      return;
    }
    canary.registry().get(Scope.tenant(visitor.tenantId()), versionId)
        .onSuccess(version -> canary.outcomes().feedback(version, value));
  }

  /** SSE fallback of the WebSocket: one message in, that turn's events out, then the response ends. */
  private void chatSse(RoutingContext ctx) {
    HttpServerResponse resp = ctx.response();
    long receivedAtMicros = EngineStamp.nowMicros();
    WidgetTurns.WidgetMessage m;
    try {
      m = WidgetTurns.WidgetMessage.parse(StrictJson.object(ctx.body().buffer()));
    } catch (HttpProblem p) {
      p.send(ctx);
      return;
    }
    if (!StreamLimitHandler.admit(ctx)) {
      return;
    }
    VisitorTokens.Visitor visitor = ctx.get(VISITOR);
    turns.run(visitor, m, receivedAtMicros, event -> {
          if (!resp.headWritten()) {
            resp.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
          }
          if (!resp.ended() && !resp.closed()) {
            resp.write("data: " + event + "\n\n");
          }
        }, () -> {
          if (!resp.ended() && !resp.closed()) {
            resp.end();
          }
        })
        .onSuccess(cancel -> resp.closeHandler(x -> cancel.run()))
        .onFailure(err -> RateLimited.send(ctx, err));
  }

  /** The visitor of a Bearer token, after the origin check against its tenant's allow-list. */
  private Future<VisitorTokens.Visitor> visitor(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : null;
    return gate.admit(token).map(a -> {
      a.settings().checkOrigin(ctx.request().getHeader("Origin"), false, ctx.response());
      return a.visitor();
    });
  }

  /** The tenant's widget for a public key; the key must be the one currently stored. */
  private Future<WidgetSettings> keySettings(String key) {
    var tenant = TenantKeys.widgetKeyTenant(key);
    if (tenant.isEmpty()) {
      return Future.failedFuture(HttpProblem.notFound("widget_not_found", "Unknown widget key."));
    }
    return WidgetSettings.load(platform.database(), tenant.get()).compose(s -> s.publicKey().equals(key.strip())
        ? Future.succeededFuture(s)
        : Future.failedFuture(HttpProblem.notFound("widget_not_found", "Unknown widget key.")));
  }
}
