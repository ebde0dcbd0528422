package ai.deepchat.console.inbox;

import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.chat.api.StrictJson;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.handoff.HandoffException;
import ai.deepchat.handoff.HandoffNode;
import ai.deepchat.handoff.Handoffs;
import ai.deepchat.handoff.InboxQueries;
import ai.deepchat.handoff.Staff;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;
import java.util.function.BiFunction;

/**
 * The agent inbox's JSON routes under {@code /console/api/inbox} (session cookie and CSRF header like
 * every console route; agents, admins and owners): the queue, a conversation, claim, reply, note,
 * typing, transfer, resolve, presence, canned replies, settings and tickets (docs/api.md, "Human
 * handoff"). Refusals answer {@code {"error": {"code", "message"}}}; the event stream is {@link InboxEvents}.
 */
public final class InboxApiRoutes {

  static final String BASE = "/api/inbox";

  private final HandoffNode node;
  private final Handoffs handoffs;
  private final InboxQueries queries;

  public InboxApiRoutes(HandoffNode node) {
    this.node = node;
    this.handoffs = node.handoffs();
    this.queries = node.inbox();
  }

  /** A state-machine action on one conversation: the staff member, the conversation id, the JSON body. */
  @FunctionalInterface
  private interface ConversationAction {
    Future<?> apply(Staff staff, UUID conversationId, JsonObject body);
  }

  public void mount(ConsoleRouter routes) {
    routes.get(BASE, ConsoleRole.AGENT, staff((ctx, s) -> queries.inbox(s)));
    routes.get(BASE + "/events", ConsoleRole.AGENT, (ctx, session) -> {
      if (!session.role().staffsInbox()) {
        return refuse(ctx);
      }
      if (!new InboxEvents(node).open(ctx, session.tenantId(), session.userId())) {
        return error(ctx, new HandoffException(429, "too_many_streams",
            "This account has too many open inbox streams; close a tab and retry."));
      }
      return Future.succeededFuture();
    });
    routes.get(BASE + "/canned", ConsoleRole.AGENT, staff((ctx, s) -> queries.cannedReplies(s)));
    routes.post(BASE + "/canned", ConsoleRole.AGENT, staff((ctx, s) -> queries.addCannedReply(s, body(ctx))
        .onSuccess(x -> ctx.response().setStatusCode(201))));
    routes.delete(BASE + "/canned/:id", ConsoleRole.AGENT, staff((ctx, s) -> queries.deleteCannedReply(s, param(ctx, "id"))
        .map(x -> new JsonObject().put("deleted", true))));
    routes.get(BASE + "/settings", ConsoleRole.AGENT, staff((ctx, s) -> queries.settings(s)));
    routes.post(BASE + "/settings", ConsoleRole.ADMIN, staff((ctx, s) -> queries.saveSettings(s, body(ctx))));
    routes.get(BASE + "/tickets", ConsoleRole.AGENT, staff((ctx, s) -> queries.tickets(s)));
    routes.post(BASE + "/presence", ConsoleRole.AGENT, staff((ctx, s) -> handoffs.presence(s, body(ctx))));
    routes.get(BASE + "/:id", ConsoleRole.AGENT, staff((ctx, s) -> queries.conversation(s, param(ctx, "id"))));
    conversation(routes, "claim", (s, id, body) -> handoffs.claim(s, id));
    conversation(routes, "reply", handoffs::reply);
    conversation(routes, "note", handoffs::note);
    conversation(routes, "typing", (s, id, body) -> handoffs.typing(s, id, body).map(x -> new JsonObject().put("ok", true)));
    conversation(routes, "transfer", handoffs::transfer);
    conversation(routes, "resolve", handoffs::resolve);
  }

  private void conversation(ConsoleRouter routes, String action, ConversationAction handler) {
    // another workspace's (or no) conversation is 404 before the body is even read
    routes.post(BASE + "/:id/" + action, ConsoleRole.AGENT, staff((ctx, s) -> {
      UUID id = param(ctx, "id");
      return queries.requireConversation(s, id).compose(x -> handler.apply(s, id, body(ctx)));
    }));
  }

  /** Guards a route to inbox staff and answers its result as JSON, refusals in the console API's error shape. */
  private ConsoleRouter.Action staff(BiFunction<RoutingContext, Staff, Future<?>> action) {
    return (ctx, session) -> {
      if (!session.role().staffsInbox()) {
        return refuse(ctx);
      }
      Staff staff = new Staff(session.tenantId(), session.userId(), session.actor(),
          session.role().atLeast(ConsoleRole.ADMIN), Forms.ip(ctx));
      Future<?> result;
      try {
        result = action.apply(ctx, staff);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      return result.compose(value -> ctx.json(value))
          .recover(err -> error(ctx, err));
    };
  }

  private static Future<Void> refuse(RoutingContext ctx) {
    return error(ctx, new HandoffException(403, "not_inbox_staff", "The inbox is for agents, admins and owners."));
  }

  private static Future<Void> error(RoutingContext ctx, Throwable err) {
    int status;
    String code;
    if (err instanceof HandoffException h) {
      status = h.status();
      code = h.code();
    } else {
      HttpProblem p = HttpProblem.of(err);
      status = p.status();
      code = p.code();
      err = p;
    }
    return ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", err.getMessage())).encode());
  }

  private static JsonObject body(RoutingContext ctx) {
    if (ctx.body() == null || ctx.body().length() == 0) {
      return new JsonObject();
    }
    try {
      return StrictJson.object(ctx.body().buffer());
    } catch (HttpProblem p) {
      throw new HandoffException(400, p.code(), p.getMessage());
    }
  }

  private static UUID param(RoutingContext ctx, String name) {
    try {
      return UUID.fromString(ctx.pathParam(name));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new HandoffException(404, "not_found", "No such " + name + ".");
    }
  }
}
