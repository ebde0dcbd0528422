package ai.deepchat.console.inbox;

import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Views;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;

/**
 * The agent inbox page, {@code /console/inbox}, for agents, admins and owners: the page only; its
 * script (static/inbox.js) reads the queue and conversations from {@link InboxApiRoutes} and their event
 * stream.
 */
public final class InboxPage {

  private final Views views;

  public InboxPage(Views views) {
    this.views = views;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/inbox", ConsoleRole.AGENT, this::page);
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s) {
    if (!s.role().staffsInbox()) { // viewers and editors rank above agents but do not work the inbox
      views.error(ctx, 403, "error.403");
      return Future.succeededFuture();
    }
    return views.render(ctx, "inbox", Map.of("section", "inbox", "me", s.userId().toString()));
  }
}
