package ai.deepchat.channel.wechat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import me.chanjar.weixin.common.util.crypto.SHA1;
import me.chanjar.weixin.common.util.crypto.WxCryptUtil;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * WeChat's side of one account, on loopback only, written from WeChat's public documentation: it builds
 * pushes signed (and encrypted) as WeChat does, and serves the API a node calls back ({@code cgi-bin/token},
 * {@code cgi-bin/gettoken}, {@code message/custom/send}, {@code message/custom/typing}, WeCom's
 * {@code message/send}, and {@code media/get} for the pictures it was given) on 127.0.0.1. The console's "send test message" runs one round trip through it;
 * the test suite's simulator builds its pushes here too. It never reaches Tencent.
 */
public final class LoopbackWechat {

  public static final String HOST = "127.0.0.1";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One push as WeChat sends it: the query string (with the signatures) and the XML body. */
  public record Push(String query, String body) {
  }

  private final Vertx vertx;
  private final String appId;
  private final String secret;
  private final Set<String> issued = ConcurrentHashMap.newKeySet();
  private final Map<String, Promise<String>> awaited = new ConcurrentHashMap<>();
  private final Map<String, io.vertx.core.buffer.Buffer> media = new ConcurrentHashMap<>();
  private HttpServer server;

  public LoopbackWechat(Vertx vertx, String appId, String secret) {
    this.vertx = vertx;
    this.appId = appId;
    this.secret = secret;
  }

  /** A text message from {@code from} to the account {@code toUser}, as WeChat (or WeCom) pushes it. */
  public static String textXml(String toUser, String from, String content, long msgId) {
    return "<xml><ToUserName><![CDATA[" + toUser + "]]></ToUserName><FromUserName><![CDATA[" + from
        + "]]></FromUserName><CreateTime>" + (System.currentTimeMillis() / 1000) + "</CreateTime>"
        + "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content + "]]></Content><MsgId>" + msgId
        + "</MsgId></xml>";
  }

  /**
   * {@code xml} signed with the account's token, and when {@code encrypted} AES-encrypted in an Encrypt
   * envelope with its msg_signature; a WeCom push is always encrypted and carries only msg_signature.
   */
  public static Push sign(String token, String aesKey, String appId, String toUser, String xml, boolean encrypted,
                          boolean wecom) {
    String timestamp = Long.toString(System.currentTimeMillis() / 1000);
    String nonce = Integer.toString(RANDOM.nextInt(Integer.MAX_VALUE));
    if (!encrypted && !wecom) {
      return new Push("signature=" + SHA1.gen(token, timestamp, nonce) + "&timestamp=" + timestamp + "&nonce=" + nonce,
          xml);
    }
    String encrypt = new WxCryptUtil(token, aesKey, appId).encryptContext(xml).getEncrypt();
    String msgSignature = SHA1.gen(token, timestamp, nonce, encrypt);
    if (wecom) {
      return new Push("msg_signature=" + msgSignature + "&timestamp=" + timestamp + "&nonce=" + nonce,
          "<xml><ToUserName><![CDATA[" + appId + "]]></ToUserName><Encrypt><![CDATA[" + encrypt + "]]></Encrypt></xml>");
    }
    return new Push("signature=" + SHA1.gen(token, timestamp, nonce) + "&timestamp=" + timestamp + "&nonce=" + nonce
        + "&encrypt_type=aes&msg_signature=" + msgSignature,
        "<xml><ToUserName><![CDATA[" + toUser + "]]></ToUserName><Encrypt><![CDATA[" + encrypt + "]]></Encrypt></xml>");
  }

  /** A passive reply as the account reads it: decrypted when it came encrypted. */
  public static String open(String token, String aesKey, String appId, String reply) {
    if (!reply.contains("<Encrypt>")) {
      return reply;
    }
    return new WxCryptUtil(token, aesKey, appId).decryptXml(tag(reply, "MsgSignature"), tag(reply, "TimeStamp"),
        tag(reply, "Nonce"), reply);
  }

  /** The text of a passive text reply, or null (an acknowledgement). */
  public static String content(String plainReply) {
    Matcher m = Pattern.compile("<Content><!\\[CDATA\\[(.*?)]]></Content>", Pattern.DOTALL).matcher(plainReply);
    return m.find() ? m.group(1) : null;
  }

  static String tag(String xml, String name) {
    Matcher m = Pattern.compile("<" + name + ">(?:<!\\[CDATA\\[)?(.*?)(?:]]>)?</" + name + ">", Pattern.DOTALL)
        .matcher(xml);
    if (!m.find()) {
      throw new IllegalArgumentException("no " + name + " in the reply");
    }
    return m.group(1);
  }

  /** Listens on 127.0.0.1, on a port the system chooses. */
  public Future<LoopbackWechat> start() {
    return vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      switch (req.path()) {
        case "/cgi-bin/token" -> token(req, req.getParam("appid"), req.getParam("secret"));
        case "/cgi-bin/gettoken" -> token(req, req.getParam("corpid"), req.getParam("corpsecret"));
        case "/cgi-bin/media/get" -> {
          io.vertx.core.buffer.Buffer picture = media.get(String.valueOf(req.getParam("media_id")));
          if (!issued.contains(String.valueOf(req.getParam("access_token")))) {
            json(req, new JsonObject().put("errcode", 40001).put("errmsg", "invalid credential"));
          } else if (picture == null) {
            json(req, new JsonObject().put("errcode", 40007).put("errmsg", "invalid media_id"));
          } else {
            req.response().putHeader("Content-Type", "image/jpeg").end(picture);
          }
        }
        case "/cgi-bin/message/custom/send", "/cgi-bin/message/custom/typing", "/cgi-bin/message/send" -> {
          if (!issued.contains(String.valueOf(req.getParam("access_token")))) {
            json(req, new JsonObject().put("errcode", 40001).put("errmsg", "invalid credential"));
            return;
          }
          if (req.path().endsWith("/send")) {
            JsonObject sent = body.toJsonObject();
            Promise<String> waiting = awaited.remove(String.valueOf(sent.getString("touser")));
            JsonObject text = sent.getJsonObject("text");
            if (waiting != null && text != null) {
              waiting.tryComplete(text.getString("content"));
            }
          }
          json(req, new JsonObject().put("errcode", 0).put("errmsg", "ok"));
        }
        default -> req.response().setStatusCode(404).end();
      }
    })).listen(0, HOST).map(s -> {
      server = s;
      return this;
    });
  }

  /** media/get serves {@code bytes} under {@code mediaId} from now on (as WeChat keeps an upload three days). */
  public LoopbackWechat media(String mediaId, byte[] bytes) {
    media.put(mediaId, io.vertx.core.buffer.Buffer.buffer(bytes));
    return this;
  }

  /** A picture message from {@code from}: WeChat's PicUrl (an outside URL, never fetched) and MediaId. */
  public static String imageXml(String toUser, String from, String mediaId, long msgId) {
    return "<xml><ToUserName><![CDATA[" + toUser + "]]></ToUserName><FromUserName><![CDATA[" + from
        + "]]></FromUserName><CreateTime>" + (System.currentTimeMillis() / 1000) + "</CreateTime>"
        + "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://127.0.0.1:9/never-fetched.jpg]]></PicUrl>"
        + "<MediaId><![CDATA[" + mediaId + "]]></MediaId><MsgId>" + msgId + "</MsgId></xml>";
  }

  public String apiBase() {
    return "http://" + HOST + ":" + server.actualPort();
  }

  /** The first message the node sends to {@code user} through the API from now on (fails after {@code timeoutMs}). */
  public Future<String> firstTextTo(String user, long timeoutMs) {
    Promise<String> p = Promise.promise();
    awaited.put(user, p);
    long timer = vertx.setTimer(timeoutMs, t -> p.tryFail("no answer within " + timeoutMs + " ms"));
    return p.future().onComplete(x -> {
      vertx.cancelTimer(timer);
      awaited.remove(user, p);
    });
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void token(HttpServerRequest req, String id, String given) {
    if (!appId.equals(id) || !secret.equals(given)) {
      json(req, new JsonObject().put("errcode", 40125).put("errmsg", "invalid appsecret"));
      return;
    }
    String token = "LOOPBACK-" + UUID.randomUUID();
    issued.add(token);
    json(req, new JsonObject().put("access_token", token).put("expires_in", 7200));
  }

  private static void json(HttpServerRequest req, JsonObject body) {
    req.response().putHeader("Content-Type", "application/json").end(body.encode());
  }
}
