package ai.deepchat.console.channels;

import ai.deepchat.channel.wechat.ChannelAdmin;
import ai.deepchat.chat.api.HttpProblem;
import ai.deepchat.console.auth.ConsoleRole;
import ai.deepchat.console.auth.ConsoleSession;
import ai.deepchat.console.web.ConsoleException;
import ai.deepchat.console.web.ConsoleRouter;
import ai.deepchat.console.web.Forms;
import ai.deepchat.console.web.Views;
import ai.deepchat.console.widget.WidgetSettingsRoutes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The tenant's WeChat and WeCom channels (admins): the same store, validation and audit as
 * {@code /v1/channels}, so secrets are written but never shown (only "(set)"); the callback URL to paste
 * into WeChat's admin page; and "send test message", a loopback round trip against the channel's own
 * configuration whose answer and timings the page shows.
 */
public final class ChannelRoutes {

  private static final List<String> TEXT_FIELDS = List.of("name", "appId", "agentId", "mode", "welcomeMessage");
  private static final List<String> SECRET_FIELDS = List.of("appSecret", "token", "encodingAesKey");

  private final Views views;
  private final ChannelAdmin channels;

  public ChannelRoutes(Views views, ChannelAdmin channels) {
    this.views = views;
    this.channels = channels;
  }

  public void mount(ConsoleRouter routes) {
    routes.get("/channels", ConsoleRole.ADMIN, (ctx, s) -> page(ctx, s, null));
    routes.post("/channels", ConsoleRole.ADMIN, this::create);
    routes.post("/channels/:id", ConsoleRole.ADMIN, this::update);
    routes.post("/channels/:id/delete", ConsoleRole.ADMIN, (ctx, s) -> checked(channels.delete(s.tenantId(),
        Forms.id(ctx, "id"), s.actor(), Forms.ip(ctx))).compose(x -> ConsoleRouter.done(ctx, "/channels", "deleted")));
    routes.post("/channels/:id/test", ConsoleRole.ADMIN, this::test);
  }

  private Future<?> page(RoutingContext ctx, ConsoleSession s, JsonObject test) {
    return channels.list(s.tenantId()).compose(list -> {
      Map<String, Object> model = new HashMap<>();
      model.put("section", "channels");
      model.put("channels", list.stream().map(o -> ((JsonObject) o).getMap()).toList());
      model.put("origin", WidgetSettingsRoutes.ownOrigin(ctx));
      model.put("test", test == null ? null : test.getMap());
      return views.render(ctx, "channels", model);
    });
  }

  private Future<?> create(RoutingContext ctx, ConsoleSession s) {
    JsonObject in = form(ctx, true).put("kind", Forms.text(ctx, "kind", 10, true));
    return checked(channels.create(s.tenantId(), in, s.actor(), Forms.ip(ctx)))
        .compose(x -> ConsoleRouter.done(ctx, "/channels", "created"));
  }

  private Future<?> update(RoutingContext ctx, ConsoleSession s) {
    JsonObject in = form(ctx, false).put("enabled", Forms.checkbox(ctx, "enabled"));
    return checked(channels.update(s.tenantId(), Forms.id(ctx, "id"), in, s.actor(), Forms.ip(ctx)))
        .compose(x -> ConsoleRouter.done(ctx, "/channels", "saved"));
  }

  private Future<?> test(RoutingContext ctx, ConsoleSession s) {
    UUID id = Forms.id(ctx, "id");
    String question = Forms.text(ctx, "question", 500, true);
    // the node's own HTTP port, the one this request came in on: the push goes to 127.0.0.1 there
    int port = ctx.request().localAddress().port();
    return checked(channels.sendTestMessage(s.tenantId(), id, question, port))
        .compose(result -> page(ctx, s, result.put("channel", id.toString()).put("question", question)));
  }

  /** The form's fields as the API takes them: blanks are left out (a secret left blank keeps its value). */
  private static JsonObject form(RoutingContext ctx, boolean creating) {
    JsonObject in = new JsonObject();
    for (String field : TEXT_FIELDS) {
      String v = Forms.text(ctx, field, 600, false);
      if (!v.isEmpty() || (field.equals("welcomeMessage") && !creating)) {
        in.put(field, v);
      }
    }
    for (String field : SECRET_FIELDS) {
      String v = Forms.text(ctx, field, 128, false);
      if (!v.isEmpty()) {
        in.put(field, v);
      }
    }
    return in;
  }

  /** The API's validation errors as the console's (same words, the console's error page). */
  private static <T> Future<T> checked(Future<T> work) {
    return work.recover(err -> Future.failedFuture(err instanceof HttpProblem p
        ? (p.status() == 404 ? ConsoleException.notFound() : ConsoleException.badRequest("channels.invalid", p.getMessage()))
        : err));
  }
}
