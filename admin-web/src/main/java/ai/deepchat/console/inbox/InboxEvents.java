package ai.deepchat.console.inbox;

import ai.deepchat.handoff.HandoffNode;
import ai.deepchat.handoff.StaffStreams;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/**
 * {@code GET /console/api/inbox/events}: the agent inbox's server-sent events (queue, message, typing,
 * assigned, resolved, presence, ticket), from whichever node the change happened on. While the stream is
 * open, this node keeps the agent's presence heartbeat fresh; a comment every {@link #KEEPALIVE_MS}
 * keeps proxies from closing an idle stream. No replay: a client that reconnects reloads the inbox.
 */
final class InboxEvents {

  static final long KEEPALIVE_MS = 15_000;

  private final HandoffNode node;

  InboxEvents(HandoffNode node) {
    this.node = node;
  }

  /** False (nothing written) when the agent already holds the most streams this node allows. */
  boolean open(RoutingContext ctx, UUID tenantId, UUID userId) {
    HttpServerResponse resp = ctx.response();
    Context context = ctx.vertx().getOrCreateContext();
    StaffStreams.Stream stream = new StaffStreams.Stream(tenantId, userId, event -> context.runOnContext(x -> {
      if (!resp.ended() && !resp.closed()) {
        resp.write("event: " + event.event() + "\ndata: " + event.json() + "\n\n");
      }
    }));
    if (!node.attach(stream)) {
      return false;
    }
    resp.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
    resp.write(": inbox\n\n");
    long keepalive = ctx.vertx().setPeriodic(KEEPALIVE_MS, id -> {
      if (!resp.ended() && !resp.closed()) {
        resp.write(": keepalive\n\n");
      }
    });
    resp.closeHandler(x -> {
      ctx.vertx().cancelTimer(keepalive);
      node.detach(stream);
    });
    return true;
  }
}
