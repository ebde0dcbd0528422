package ai.deepchat.chat;

import ai.deepchat.channel.wechat.LoopbackWechat;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import me.chanjar.weixin.common.util.crypto.SHA1;
import me.chanjar.weixin.common.util.crypto.WxCryptUtil;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * WeChat's side of an official account (and a WeCom application), written from WeChat's public
 * documentation, on loopback (its pushes are built by the production {@link LoopbackWechat}): it pushes signed (and in safe mode encrypted) XML to the platform as
 * WeChat does, waiting 5 s for a reply and retrying three times, and serves the API the platform calls:
 * {@code cgi-bin/token} and {@code cgi-bin/gettoken}, {@code message/custom/send},
 * {@code message/custom/typing}, WeCom's {@code message/send}, and {@code media/get} for the pictures it
 * was given ({@link #media}; any other id: 40007). Tokens stay valid until
 * {@link #expireTokens} (WeChat keeps a replaced token valid for five minutes, so two fetches are not
 * told apart by failures: {@link #tokenFetches} counts them).
 */
final class WechatSimulator {

  /** An account as configured on WeChat's admin page, and on the platform's channel. */
  record Account(String appId, String secret, String token, String aesKey, String ghId) {
    WxCryptUtil crypto() {
      return new WxCryptUtil(token, aesKey, appId);
    }
  }

  /** One call of the message API: the path, and the body. */
  record Call(String path, JsonObject body, long atMillis) {
  }

  /** What the platform answered to a push: status, body as sent, and the plain reply (decrypted). */
  record Reply(int status, String body, String plain, int attempts, long millis) {
    /** The text of a passive text reply, or null (an ack). */
    String content() {
      Matcher m = Pattern.compile("<Content><!\\[CDATA\\[(.*?)]]></Content>", Pattern.DOTALL).matcher(plain);
      return m.find() ? m.group(1) : null;
    }
  }

  final List<Call> calls = new CopyOnWriteArrayList<>();
  final AtomicInteger tokenFetches = new AtomicInteger();
  private final Map<String, Account> accounts = new ConcurrentHashMap<>();
  private final Set<String> validTokens = ConcurrentHashMap.newKeySet();
  private final Map<String, byte[]> media = new ConcurrentHashMap<>();
  /** How often media/get was asked for. */
  final AtomicInteger mediaFetches = new AtomicInteger();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** While set, message sends are held unanswered and not delivered (a node may die meanwhile). */
  volatile boolean holdSends;
  final AtomicInteger heldSends = new AtomicInteger();
  /** While sends are held, this many more still go through first (a node dies in the middle of an answer). */
  final AtomicInteger passBeforeHold = new AtomicInteger();
  /** WeChat waits this long for a reply before it retries. */
  volatile Duration replyWait = Duration.ofSeconds(5);
  private HttpServer server;
  private String host;
  private int port;

  WechatSimulator account(Account a) {
    accounts.put(a.appId(), a);
    return this;
  }

  /** Listens on {@code host} (a loopback address the platform's outbound policy allows). */
  WechatSimulator start(Vertx vertx, String host) throws Exception {
    this.host = host;
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      String path = req.path();
      switch (path) {
        case "/cgi-bin/token" -> token(req, req.getParam("appid"), req.getParam("secret"));
        case "/cgi-bin/gettoken" -> token(req, req.getParam("corpid"), req.getParam("corpsecret"));
        case "/cgi-bin/media/get" -> {
          mediaFetches.incrementAndGet();
          byte[] bytes = media.get(String.valueOf(req.getParam("media_id")));
          if (!validTokens.contains(String.valueOf(req.getParam("access_token")))) {
            json(req, new JsonObject().put("errcode", 40001).put("errmsg", "invalid credential"));
          } else if (bytes == null) {
            json(req, new JsonObject().put("errcode", 40007).put("errmsg", "invalid media_id"));
          } else {
            // WeChat's Content-Type says image whatever the bytes are: the platform checks the bytes
            req.response().putHeader("Content-Type", "image/jpeg").end(io.vertx.core.buffer.Buffer.buffer(bytes));
          }
        }
        case "/cgi-bin/message/custom/send", "/cgi-bin/message/custom/typing", "/cgi-bin/message/send" -> {
          if (!validTokens.contains(String.valueOf(req.getParam("access_token")))) {
            json(req, new JsonObject().put("errcode", 40001).put("errmsg", "invalid credential"));
            return;
          }
          if (holdSends && path.endsWith("/send") && passBeforeHold.getAndDecrement() <= 0) {
            heldSends.incrementAndGet();
            return;
          }
          calls.add(new Call(path, body.toJsonObject(), System.currentTimeMillis()));
          json(req, new JsonObject().put("errcode", 0).put("errmsg", "ok"));
        }
        default -> req.response().setStatusCode(404).end();
      }
    }));
    port = server.listen(0, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
    return this;
  }

  /** media/get serves {@code bytes} under {@code mediaId}. */
  WechatSimulator media(String mediaId, byte[] bytes) {
    media.put(mediaId, bytes);
    return this;
  }

  String apiBase() {
    return "http://" + host + ":" + port;
  }

  /** Every token issued so far is invalid from now on (as after WeChat expired them). */
  void expireTokens() {
    validTokens.clear();
  }

  private void token(HttpServerRequest req, String appId, String secret) {
    Account a = accounts.get(String.valueOf(appId));
    if (a == null || !a.secret().equals(secret)) {
      json(req, new JsonObject().put("errcode", 40125).put("errmsg", "invalid appsecret"));
      return;
    }
    tokenFetches.incrementAndGet();
    String token = "TOKEN-" + UUID.randomUUID();
    validTokens.add(token);
    json(req, new JsonObject().put("access_token", token).put("expires_in", 7200));
  }

  private static void json(HttpServerRequest req, JsonObject body) {
    req.response().putHeader("Content-Type", "application/json").end(body.encode());
  }

  /** The customer-service messages (or WeCom messages) sent to {@code user}, in order. */
  List<String> textsTo(String user) {
    return calls.stream().filter(c -> c.path().endsWith("/send") && user.equals(c.body().getString("touser")))
        .map(c -> c.body().getJsonObject("text").getString("content")).toList();
  }

  long typingTo(String user) {
    return calls.stream().filter(c -> c.path().endsWith("/typing") && user.equals(c.body().getString("touser"))).count();
  }

  // ---- pushes, as WeChat sends them ----

  static String text(Account a, String from, String content, long msgId) {
    return LoopbackWechat.textXml(a.ghId(), from, content, msgId);
  }

  static String image(Account a, String from, String mediaId, long msgId) {
    return LoopbackWechat.imageXml(a.ghId(), from, mediaId, msgId);
  }

  static String event(Account a, String from, String event, String key, long createTime) {
    return "<xml><ToUserName><![CDATA[" + a.ghId() + "]]></ToUserName><FromUserName><![CDATA[" + from
        + "]]></FromUserName><CreateTime>" + createTime + "</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        + "<Event><![CDATA[" + event + "]]></Event>" + (key == null ? "" : "<EventKey><![CDATA[" + key + "]]></EventKey>")
        + "</xml>";
  }

  static String voice(Account a, String from, String recognition, long msgId) {
    return "<xml><ToUserName><![CDATA[" + a.ghId() + "]]></ToUserName><FromUserName><![CDATA[" + from
        + "]]></FromUserName><CreateTime>" + (System.currentTimeMillis() / 1000) + "</CreateTime>"
        + "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media1]]></MediaId><Format><![CDATA[amr]]></Format>"
        + (recognition == null ? "" : "<Recognition><![CDATA[" + recognition + "]]></Recognition>")
        + "<MsgId>" + msgId + "</MsgId></xml>";
  }

  /**
   * Pushes {@code xml} to {@code url} as WeChat does: signature over token, timestamp and nonce; when
   * {@code encrypted}, the message AES-encrypted in an Encrypt envelope with its msg_signature. With no
   * reply within {@link #replyWait}, the same push is sent again, three retries at most.
   */
  Reply push(String url, Account a, String xml, boolean encrypted) throws Exception {
    LoopbackWechat.Push signed = LoopbackWechat.sign(a.token(), a.aesKey(), a.appId(), a.ghId(), xml, encrypted, false);
    return send(url + "?" + signed.query() + "&openid=x", signed.body(), encrypted ? a.crypto() : null);
  }

  /** A WeCom push: always encrypted, msg_signature only, the CorpID as receive id. */
  Reply pushWecom(String url, Account a, String xml) throws Exception {
    String timestamp = Long.toString(System.currentTimeMillis() / 1000);
    String nonce = "wecom" + System.nanoTime();
    WxCryptUtil crypto = a.crypto();
    String encrypt = crypto.encryptContext(xml).getEncrypt();
    String body = "<xml><ToUserName><![CDATA[" + a.appId() + "]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
        + "<Encrypt><![CDATA[" + encrypt + "]]></Encrypt></xml>";
    return send(url + "?msg_signature=" + SHA1.gen(a.token(), timestamp, nonce, encrypt) + "&timestamp=" + timestamp
        + "&nonce=" + nonce, body, crypto);
  }

  /** URL verification as WeChat's admin page does it when the URL is saved. */
  HttpResponse<String> verify(String url, Account a, String echostr) throws Exception {
    String timestamp = Long.toString(System.currentTimeMillis() / 1000);
    String nonce = "n" + System.nanoTime();
    return http.send(HttpRequest.newBuilder(URI.create(url + "?signature=" + SHA1.gen(a.token(), timestamp, nonce)
        + "&timestamp=" + timestamp + "&nonce=" + nonce + "&echostr=" + URLEncoder.encode(echostr, StandardCharsets.UTF_8)))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private Reply send(String url, String body, WxCryptUtil crypto) throws Exception {
    long start = System.nanoTime();
    for (int attempt = 1; ; attempt++) {
      try {
        HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(replyWait)
            .header("Content-Type", "text/xml").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        String plain = resp.body();
        if (crypto != null && resp.statusCode() == 200 && plain.contains("<Encrypt>")) {
          plain = crypto.decryptXml(tag(plain, "MsgSignature"), tag(plain, "TimeStamp"), tag(plain, "Nonce"), plain);
        }
        return new Reply(resp.statusCode(), resp.body(), plain, attempt, (System.nanoTime() - start) / 1_000_000);
      } catch (HttpTimeoutException e) {
        if (attempt == 4) {
          throw e;
        }
      }
    }
  }

  private static String tag(String xml, String name) {
    Matcher m = Pattern.compile("<" + name + ">(?:<!\\[CDATA\\[)?(.*?)(?:]]>)?</" + name + ">", Pattern.DOTALL).matcher(xml);
    if (!m.find()) {
      throw new AssertionError("no " + name + " in " + xml);
    }
    return m.group(1);
  }
}
