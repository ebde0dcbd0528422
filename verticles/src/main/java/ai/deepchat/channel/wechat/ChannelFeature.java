package ai.deepchat.channel.wechat;

import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.chat.api.TurnClient;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.security.SecretBox;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import me.chanjar.weixin.mp.bean.message.WxMpXmlMessage;
import me.chanjar.weixin.mp.bean.message.WxMpXmlOutMessage;

import java.util.function.Supplier;

/**
 * How the chat feature wires the WeChat and WeCom channels: their URLs and {@code /v1/channels} on every
 * gateway instance, and on
 * pipeline nodes the sweep that takes over messages a dead node left unanswered.
 */
public final class ChannelFeature {

  private ChannelFeature() {
  }

  /**
   * One gateway instance's channel URLs per call (each with its own turn client and HTTP client).
   * Blocking (call at start-up): XStream builds its model of WxJava's message classes on first use, which
   * takes seconds, so that happens here rather than on an event loop with WeChat waiting.
   */
  public static Supplier<HttpModule> httpModule(Vertx vertx, Platform platform, RequestLimits limits, AuditTrail audit) {
    WxMpXmlMessage.fromXml("<xml><MsgType>text</MsgType></xml>");
    WxMpXmlOutMessage.TEXT().content("").fromUser("").toUser("").build().toXml();
    PlatformConfig.Channels config = platform.config().channels();
    ChannelSecrets secrets = secrets(platform);
    ChannelStore store = new ChannelStore(platform.database(), platform.nodeId(), config.leaseSeconds(), secrets);
    OutboundPolicy outbound = OutboundPolicy.of(platform.config());
    ChannelApiModule api = new ChannelApiModule(new ApiKeyAuth(platform.database()), limits,
        new ChannelSettings(platform.database(), audit, secrets));
    return () -> {
      ChannelModule callbacks = new ChannelModule(store, answers(vertx, platform, limits, store, outbound),
          config.passiveBudgetMs());
      return router -> {
        callbacks.mount(router);
        api.mount(router);
      };
    };
  }

  /**
   * The take-over sweep of this node; returns its deployment id. First seals the channel secrets not yet
   * sealed with this node's key (stored before encryption at rest, or before a key rotation).
   */
  public static Future<String> deploySweeper(Vertx vertx, Platform platform, RequestLimits limits) {
    PlatformConfig.Channels config = platform.config().channels();
    OutboundPolicy outbound = OutboundPolicy.of(platform.config());
    return vertx.executeBlocking(() -> secrets(platform)).compose(secrets -> secrets.resealAll(platform.database())
        .compose(resealed -> {
          ChannelStore store = new ChannelStore(platform.database(), platform.nodeId(), config.leaseSeconds(), secrets);
          return vertx.deployVerticle(new ChannelSweepVerticle(store, v -> answers(v, platform, limits, store, outbound),
              config.sweepIntervalMs()));
        }));
  }

  /** The node's channel secrets (blocking: the key may come from a file under DATA_DIR). */
  static ChannelSecrets secrets(Platform platform) {
    return new ChannelSecrets(SecretBox.resolve(platform.config()));
  }

  private static ChannelAnswers answers(Vertx vertx, Platform platform, RequestLimits limits, ChannelStore store,
                                        OutboundPolicy outbound) {
    var chat = platform.config().chat();
    PlatformConfig.Channels config = platform.config().channels();
    return new ChannelAnswers(vertx, new TurnClient(vertx, chat.requestTimeoutMs(), chat.idleTimeoutMs()), limits,
        store, new WechatApi(vertx, WebClient.create(vertx), outbound, config), config.leaseSeconds(),
        config.heartbeatMs());
  }
}
