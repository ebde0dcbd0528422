package ai.deepchat.channel.wechat;

import ai.deepchat.chat.api.HttpProblem;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import me.chanjar.weixin.mp.bean.message.WxMpXmlOutMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * The URLs WeChat and WeCom call: {@code /channels/wechat/{id}} and {@code /channels/wecom/{id}}, GET
 * for URL verification, POST for pushes. Nothing happens before the signature holds; a push is stored
 * once (WeChat's retries and duplicates find it stored), then answered passively or acknowledged with
 * "success" and answered through the API ({@link ChannelAnswers}).
 */
final class ChannelModule implements ai.deepchat.platform.http.HttpModule {

  private static final Logger LOG = LoggerFactory.getLogger(ChannelModule.class);
  /** WeChat's pushes are small; a larger body is not WeChat's. */
  static final long MAX_BODY = 64 * 1024;
  private static final String ACK = "success";

  private final ChannelStore store;
  private final ChannelAnswers answers;
  private final long passiveBudgetMs;

  ChannelModule(ChannelStore store, ChannelAnswers answers, long passiveBudgetMs) {
    this.store = store;
    this.answers = answers;
    this.passiveBudgetMs = passiveBudgetMs;
  }

  @Override
  public void mount(Router router) {
    for (String kind : new String[] {ChannelConfig.WECHAT, ChannelConfig.WECOM}) {
      router.get("/channels/" + kind + "/:channelId").handler(ctx -> verify(ctx, kind));
      router.post("/channels/" + kind + "/:channelId").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY))
          .handler(ctx -> push(ctx, kind));
    }
  }

  private void verify(RoutingContext ctx, String kind) {
    channel(ctx, kind)
        .map(ch -> Callback.verifyUrl(ch, ctx.request().params()))
        .onSuccess(echo -> ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").end(echo))
        .onFailure(err -> refuse(ctx, err));
  }

  private void push(RoutingContext ctx, String kind) {
    long arrived = System.nanoTime(); // WeChat's 5 s run from here, not from when the answer starts
    channel(ctx, kind).compose(ch -> {
      Callback.Opened opened = Callback.open(ch, ctx.request().params(), ctx.body().asString("UTF-8"));
      Inbound in = Inbound.parse(opened.xml(), ch.welcomeMessage());
      return store.accept(ch, in).compose(m -> m == null ? again(ch, in) : first(ch, in, m, arrived))
          .map(text -> text == null ? null : Callback.seal(ch, replyXml(in, text), opened.encrypted()));
    }).onSuccess(reply -> {
      if (reply == null) {
        ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").end(ACK);
      } else {
        ctx.response().putHeader("Content-Type", "application/xml; charset=utf-8").end(reply);
      }
    }).onFailure(err -> refuse(ctx, err));
  }

  /** A new message: a fixed reply, nothing (events), or the pipeline's answer. */
  private Future<String> first(ChannelConfig ch, Inbound in, ChannelStore.Message m, long arrived) {
    if (in.question() == null) {
      String reply = in.reply() == null ? "" : in.reply();
      return store.answered(m, reply, "replied").map(v -> reply.isEmpty() ? null : reply);
    }
    long left = passiveBudgetMs - (System.nanoTime() - arrived) / 1_000_000;
    return answers.answer(ch, m, Math.max(0, left));
  }

  /** WeChat's retry of a push it got no reply to: the same passive reply if there was one, else the ack. */
  private Future<String> again(ChannelConfig ch, Inbound in) {
    return store.byKey(ch, in.dedupeKey()).map(m -> m != null && "replied".equals(m.status())
        && m.answer() != null && !m.answer().isEmpty() ? m.answer() : null);
  }

  private static String replyXml(Inbound in, String text) {
    return WxMpXmlOutMessage.TEXT().content(text).fromUser(in.toUser()).toUser(in.openId()).build().toXml();
  }

  private Future<ChannelConfig> channel(RoutingContext ctx, String kind) {
    UUID id;
    try {
      id = UUID.fromString(ctx.pathParam("channelId"));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(HttpProblem.notFound("channel_not_found", "No such channel."));
    }
    return store.find(id, kind).compose(ch -> ch == null || !ch.enabled()
        ? Future.failedFuture(HttpProblem.notFound("channel_not_found", "No such channel.")) : Future.succeededFuture(ch));
  }

  private static void refuse(RoutingContext ctx, Throwable err) {
    if (err instanceof ChannelCrypto.Refused) {
      LOG.info("channel push refused: {}", err.getMessage());
      HttpProblem.forbidden("signature_invalid", "The request failed the channel's checks: " + err.getMessage() + ".")
          .send(ctx);
      return;
    }
    if (err instanceof ChannelSecrets.Unreadable) {
      // the operator's to fix (keys differ between nodes, or the row was changed): told in the log, not to the caller
      LOG.error("channel push refused: {}", err.getMessage());
      new HttpProblem(503, "server_error", "channel_unavailable", "The channel cannot answer right now.").send(ctx);
      return;
    }
    if (!(err instanceof HttpProblem)) {
      LOG.warn("channel push failed", err);
    }
    HttpProblem.of(err).send(ctx);
  }
}
