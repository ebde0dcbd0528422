package ai.deepchat.channel.wechat;

import ai.deepchat.chat.api.HttpProblem;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The console's "send test message": one round trip against a tenant's own channel configuration, all on
 * loopback. A {@link LoopbackWechat} plays WeChat with the channel's own AppID, secret, token and
 * EncodingAESKey, pushes a signed (and encrypted) text from a made-up test user to this node's callback
 * URL on 127.0.0.1, and serves the API the answer goes through; the answer of that user goes only there
 * ({@link Rehearsals}). Reports the passive reply or the asynchronous answer, and the timings.
 */
final class ChannelRehearsal {

  private final Vertx vertx;
  private final WebClient client;
  private final ChannelStore store;
  private final long answerTimeoutMs;

  ChannelRehearsal(Vertx vertx, WebClient client, ChannelStore store, long answerTimeoutMs) {
    this.vertx = vertx;
    this.client = client;
    this.store = store;
    this.answerTimeoutMs = answerTimeoutMs;
  }

  /** {@code nodePort}: the port this node's HTTP server listens on (reached on 127.0.0.1). */
  Future<JsonObject> run(UUID tenant, UUID channelId, String question, int nodePort) {
    return store.channel(tenant, channelId).compose(ch -> {
      if (ch == null) {
        return Future.failedFuture(HttpProblem.notFound("channel_not_found", "No such channel."));
      }
      LoopbackWechat wechat = new LoopbackWechat(vertx, ch.appId(), ch.appSecret());
      String user = Rehearsals.newUser();
      return wechat.start().compose(w -> {
        Rehearsals.register(vertx, ch, user, w.apiBase());
        return roundTrip(ch, w, user, question, nodePort);
      }).onComplete(x -> {
        Rehearsals.end(vertx, ch, user);
        wechat.close();
      });
    }).recover(err -> err instanceof ChannelSecrets.Unreadable // the admin is told which channel and why
        ? Future.succeededFuture(new JsonObject().put("ok", false).put("error", err.getMessage()).put("replyMs", 0))
        : Future.failedFuture(err));
  }

  private Future<JsonObject> roundTrip(ChannelConfig ch, LoopbackWechat wechat, String user, String question,
                                       int nodePort) {
    String account = ch.wecom() ? ch.appId() : "gh_test";
    String xml = LoopbackWechat.textXml(account, user, question,
        ThreadLocalRandom.current().nextLong(1_000_000_000L, Long.MAX_VALUE));
    LoopbackWechat.Push push = LoopbackWechat.sign(ch.token(), ch.encodingAesKey(), ch.appId(), account, xml,
        !"plaintext".equals(ch.mode()), ch.wecom());
    Future<String> async = wechat.firstTextTo(user, answerTimeoutMs);
    long start = System.nanoTime();
    JsonObject out = new JsonObject().put("user", user);
    return client.post(nodePort, LoopbackWechat.HOST, "/channels/" + ch.kind() + "/" + ch.id() + "?" + push.query())
        .putHeader("Content-Type", "text/xml").timeout(10_000).sendBuffer(Buffer.buffer(push.body()))
        .compose(resp -> {
          out.put("status", resp.statusCode()).put("replyMs", millis(start));
          if (resp.statusCode() != 200) {
            return Future.succeededFuture(out.put("ok", false).put("error", "the node answered HTTP " + resp.statusCode()));
          }
          String body = resp.bodyAsString() == null ? "" : resp.bodyAsString();
          String passive = body.startsWith("<xml>")
              ? LoopbackWechat.content(LoopbackWechat.open(ch.token(), ch.encodingAesKey(), ch.appId(), body)) : null;
          if (passive != null) {
            return Future.succeededFuture(out.put("ok", true).put("passive", true).put("answer", passive)
                .put("answerMs", out.getLong("replyMs")));
          }
          return async.map(answer -> out.put("ok", true).put("passive", false).put("answer", answer)
                  .put("answerMs", millis(start)))
              .recover(err -> Future.succeededFuture(out.put("ok", false).put("error", err.getMessage())));
        })
        .recover(err -> Future.succeededFuture(out.put("ok", false).put("error", String.valueOf(err.getMessage()))));
  }

  private static long millis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
