package ai.deepchat.channel.wechat;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.outbound.OutboundPolicy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import me.chanjar.weixin.common.api.WxConsts;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * WeChat's and WeCom's HTTP API through Vert.x's WebClient (WxJava's clients block): access tokens,
 * customer-service messages and typing status (official accounts), application messages (WeCom). Every
 * call goes through the node's {@link OutboundPolicy} (the API base is the operator's setting), pinned to
 * the checked address, without redirects. A reply naming an invalid token drops it and tries once more
 * with a new one.
 */
final class WechatApi {

  /** WeChat answered with an error code (or not as documented). */
  static final class WechatError extends RuntimeException {
    final int code;

    WechatError(int code, String message) {
      super("WeChat error " + code + ": " + message, null, false, false);
      this.code = code;
    }

    /** Trying again will not help: outside the 48-hour window, the user unsubscribed or blocked, bad input. */
    boolean permanent() {
      return PERMANENT.contains(code);
    }
  }

  /** 45015 reply time limit (48 hours) passed, 45047 too many messages since the user last wrote, 40003 bad user, 43004 unsubscribed, 81013 WeCom user not found. */
  private static final Set<Integer> PERMANENT = Set.of(45015, 45047, 40003, 43004, 81013, WechatApi.TEST_ENDED);
  /** Ours, not WeChat's: a console test user's answer came after its round trip ended. */
  static final int TEST_ENDED = -100;
  private static final long TIMEOUT_MS = 10_000;
  /** A picture of up to CHANNEL_MEDIA_MAX_BYTES may take longer than a message to come. */
  private static final long MEDIA_TIMEOUT_MS = 30_000;

  private final Vertx vertx;
  private final WebClient client;
  private final OutboundPolicy outbound;
  private final PlatformConfig.Channels config;
  private final AccessTokens tokens;

  WechatApi(Vertx vertx, WebClient client, OutboundPolicy outbound, PlatformConfig.Channels config) {
    this.vertx = vertx;
    this.client = client;
    this.outbound = outbound;
    this.config = config;
    this.tokens = new AccessTokens(vertx);
  }

  /** One text message to {@code user} (OpenID, or WeCom UserID). */
  Future<Void> sendText(ChannelConfig ch, String user, String text) {
    JsonObject body = new JsonObject().put("touser", user).put("msgtype", "text")
        .put("text", new JsonObject().put("content", text));
    if (ch.wecom()) {
      body.put("agentid", Integer.parseInt(ch.agentId()));
      return call(ch, user, "/cgi-bin/message/send", body, true).mapEmpty();
    }
    return call(ch, user, "/cgi-bin/message/custom/send", body, true).mapEmpty();
  }

  /** "Typing…" in the user's chat while the answer is generated (official accounts only). */
  Future<Void> typing(ChannelConfig ch, String user) {
    if (ch.wecom()) {
      return Future.succeededFuture();
    }
    return call(ch, user, "/cgi-bin/message/custom/typing", new JsonObject().put("touser", user).put("command", "Typing"),
        true).mapEmpty();
  }

  /** Where a call goes: WeChat's (or WeCom's) API, or the loopback simulator of a console test round trip. */
  private record Target(String base, boolean loopback) {
  }

  /**
   * A picture {@code user} sent (its MediaId), through media/get of the account's API (WeChat's and WeCom's
   * have the same path), read up to CHANNEL_MEDIA_MAX_BYTES and checked to be an image. WeChat's error
   * (40007 invalid media id, say), a larger body, or bytes that are no image: {@link WechatMedia.Refused}.
   */
  Future<WechatMedia.Picture> media(ChannelConfig ch, String user, String mediaId) {
    return withToken(ch, user, true, (target, token) -> request(HttpMethod.GET, target,
            "/cgi-bin/media/get?access_token=" + enc(token) + "&media_id=" + enc(mediaId))
        .compose(r -> r.as(WechatMedia.capped(config.mediaMaxBytes())).send())
        .timeout(MEDIA_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .compose(WechatApi::picture));
  }

  /** media/get answers the bytes, or (any failure) an errcode JSON object. */
  private static Future<WechatMedia.Picture> picture(HttpResponse<Buffer> resp) {
    if (resp.statusCode() != 200) {
      return Future.failedFuture(new WechatError(-resp.statusCode(), "HTTP status " + resp.statusCode()));
    }
    Buffer body = resp.body() == null ? Buffer.buffer() : resp.body();
    if (body.length() > 0 && body.getByte(0) == '{') {
      JsonObject json;
      try {
        json = body.toJsonObject();
      } catch (DecodeException e) {
        return Future.failedFuture(new WechatMedia.Refused("media/get answered malformed JSON", WechatMedia.NOT_FETCHED));
      }
      int code = json.getInteger("errcode", 0);
      WechatError err = new WechatError(code, json.getString("errmsg", ""));
      // an invalid token is retried with a new one; any other error is WeChat's last word on this picture
      return Future.failedFuture(WxConsts.ACCESS_TOKEN_ERROR_CODES.contains(code) ? err
          : new WechatMedia.Refused(err.getMessage(), WechatMedia.NOT_FETCHED));
    }
    return Future.succeededFuture(WechatMedia.picture(body));
  }

  private Future<JsonObject> call(ChannelConfig ch, String user, String path, JsonObject body, boolean retryOnBadToken) {
    return withToken(ch, user, retryOnBadToken,
        (target, token) -> http(HttpMethod.POST, target, path + "?access_token=" + enc(token), body));
  }

  /**
   * {@code exchange} with the account's access token, at WeChat's API or a console test's loopback one;
   * a reply naming the token invalid drops it and tries once more with a new one.
   */
  private <T> Future<T> withToken(ChannelConfig ch, String user, boolean retryOnBadToken,
                                  java.util.function.BiFunction<Target, String, Future<T>> exchange) {
    Target target;
    if (Rehearsals.testUser(user)) {
      String base = Rehearsals.apiBase(vertx, ch, user);
      if (base == null) {
        return Future.failedFuture(new WechatError(TEST_ENDED, "the test round trip ended; nothing is sent"));
      }
      target = new Target(base, true);
    } else {
      target = new Target(ch.wecom() ? config.wecomApiBase() : config.wechatApiBase(), false);
    }
    return tokens.get(ch, target.base(), c -> fetchToken(c, target)).compose(token -> exchange.apply(target, token)
        .recover(err -> {
          if (retryOnBadToken && err instanceof WechatError we && WxConsts.ACCESS_TOKEN_ERROR_CODES.contains(we.code)) {
            return tokens.invalidate(ch, target.base(), token).compose(v -> withToken(ch, user, false, exchange));
          }
          return Future.failedFuture(err);
        }));
  }

  private Future<JsonObject> fetchToken(ChannelConfig ch, Target target) {
    String path = ch.wecom()
        ? "/cgi-bin/gettoken?corpid=" + enc(ch.appId()) + "&corpsecret=" + enc(ch.appSecret())
        : "/cgi-bin/token?grant_type=client_credential&appid=" + enc(ch.appId()) + "&secret=" + enc(ch.appSecret());
    return http(HttpMethod.GET, target, path, null);
  }

  private Future<JsonObject> http(HttpMethod method, Target target, String pathAndQuery, JsonObject body) {
    return request(method, target, pathAndQuery)
        .compose(r -> (body == null ? r.send() : r.sendJsonObject(body)).compose(WechatApi::reply))
        .timeout(TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private Future<io.vertx.ext.web.client.HttpRequest<Buffer>> request(HttpMethod method, Target target,
                                                                      String pathAndQuery) {
    String url = target.base() + pathAndQuery;
    // the loopback simulator is this node's own server for one round trip; everything else passes the policy
    return target.loopback()
        ? Future.succeededFuture(client.requestAbs(method, url).timeout(TIMEOUT_MS))
        : outbound.resolve(vertx, url).map(pinned -> client.request(method, pinned.requestOptions(method)
            .setConnectTimeout(TIMEOUT_MS).setIdleTimeout(TIMEOUT_MS)));
  }

  private static Future<JsonObject> reply(HttpResponse<Buffer> resp) {
    if (resp.statusCode() != 200) {
      return Future.failedFuture(new WechatError(-resp.statusCode(), "HTTP status " + resp.statusCode()));
    }
    JsonObject json;
    try {
      json = resp.bodyAsJsonObject();
    } catch (DecodeException | ClassCastException e) {
      return Future.failedFuture(new WechatError(-1, "the reply is not JSON"));
    }
    if (json == null) {
      return Future.failedFuture(new WechatError(-1, "empty reply"));
    }
    int code = json.getInteger("errcode", 0);
    return code == 0 ? Future.succeededFuture(json)
        : Future.failedFuture(new WechatError(code, json.getString("errmsg", "")));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** WeChat's limit for one text message is 2048 bytes of UTF-8; a margin for what WeChat counts differently. */
  static final int MAX_TEXT_BYTES = 2000;

  /** {@code text} in parts of at most {@link #MAX_TEXT_BYTES}, cut after a line or sentence end where one is near. */
  static List<String> split(String text) {
    List<String> parts = new java.util.ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int end = start;
      int bytes = 0;
      int lastBreak = -1;
      while (end < text.length()) {
        int cp = text.codePointAt(end);
        int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
        if (bytes + len > MAX_TEXT_BYTES) {
          break;
        }
        bytes += len;
        end += Character.charCount(cp);
        if (cp == '\n' || cp == '。' || cp == '！' || cp == '？' || cp == '.' || cp == '!' || cp == '?') {
          lastBreak = end;
        }
      }
      if (end < text.length() && lastBreak > start + (end - start) / 2) {
        end = lastBreak;
      }
      parts.add(text.substring(start, end));
      start = end;
    }
    return parts;
  }
}
