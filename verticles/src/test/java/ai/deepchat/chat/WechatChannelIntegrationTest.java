package ai.deepchat.chat;

import ai.deepchat.chat.WechatSimulator.Account;
import ai.deepchat.chat.WechatSimulator.Reply;
import ai.deepchat.channel.wechat.ChannelAdmin;
import ai.deepchat.chat.api.HttpProblem;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * WeChat and WeCom channels over real HTTP and PostgreSQL, the real pipeline behind them, and WeChat's
 * side played by {@link WechatSimulator} on loopback.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WechatChannelIntegrationTest {

  static final String KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  static final AtomicLong MSG_IDS = new AtomicLong(6054768590064713728L);

  private final WechatSimulator sim = new WechatSimulator();
  private ChatHarness h;
  private ChatHarness.Tenant t;
  private final Account safe = new Account("wx00000000000safe", "secret-safe", "tok-safe", KEY, "gh_safe");
  private final Account plain = new Account("wx0000000000plain", "secret-plain", "tok-plain", null, "gh_plain");
  private final Account corp = new Account("ww00000000000corp", "secret-corp", "tok-corp",
      "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww00000000000corp");
  private String safeUrl;
  private String plainUrl;
  private String corpUrl;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    sim.account(safe).account(plain).account(corp).start(vertx, ChatHarness.ALLOWED_LOOPBACK);
    h = new ChatHarness(vertx).start(Map.of("WECHAT_API_BASE", sim.apiBase(), "WECOM_API_BASE", sim.apiBase()));
    t = h.tenant("wechat-co");
    h.execOwner("INSERT INTO faq_entries (tenant_id, question, answer) VALUES ('" + t.id()
        + "', 'How do I reset my password?', 'Open Settings, then Security, then Reset password.')");
    safeUrl = channelUrl("wechat", safe, "safe", "欢迎关注！Welcome!");
    plainUrl = channelUrl("wechat", plain, "plaintext", "");
    corpUrl = channelUrl("wecom", corp, "safe", "");
    // the first turn of a JVM loads the FAQ embedding model: not what the timings below measure
    sim.push(plainUrl, plain, WechatSimulator.text(plain, "o-warm-up", "how do I reset my password", msgId()), false);
  }

  private String channelUrl(String kind, Account a, String mode, String welcome) {
    UUID id = UUID.randomUUID();
    h.execOwner("INSERT INTO channels (id, tenant_id, kind, name, app_id, agent_id, app_secret, token, encoding_aes_key, "
        + "mode, welcome_message) VALUES ('" + id + "', '" + t.id() + "', '" + kind + "', 'test', '" + a.appId() + "', "
        + ("wecom".equals(kind) ? "'1000002'" : "NULL") + ", '" + a.secret() + "', '" + a.token() + "', "
        + (a.aesKey() == null ? "NULL" : "'" + a.aesKey() + "'") + ", '" + mode + "', '" + welcome + "')");
    return "http://127.0.0.1:" + h.port + "/channels/" + kind + "/" + id;
  }

  private static long msgId() {
    return MSG_IDS.incrementAndGet();
  }

  @Test
  void urlVerificationEchoesOnlyUnderTheTokensSignature() throws Exception {
    HttpResponse<String> ok = sim.verify(plainUrl, plain, "echo-1616140317");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("echo-1616140317");
    Account forger = new Account(plain.appId(), plain.secret(), "not-the-token", null, plain.ghId());
    HttpResponse<String> forged = sim.verify(plainUrl, forger, "echo-x");
    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(forged.body()).doesNotContain("echo-x").contains("signature_invalid");
    assertThat(sim.verify(plainUrl.replaceAll("[0-9a-f-]{36}$", UUID.randomUUID().toString()), plain, "e")
        .statusCode()).isEqualTo(404);
    // a WeChat channel's id under the WeCom path is no channel
    assertThat(sim.verify(plainUrl.replace("/wechat/", "/wecom/"), plain, "e").statusCode()).isEqualTo(404);
  }

  @Test
  void anFaqHitIsAnsweredPassivelyEncryptedAndARetryGetsTheSameReplyOnce() throws Exception {
    String user = "o-faq-" + UUID.randomUUID();
    String xml = WechatSimulator.text(safe, user, "how do I reset my password", msgId());
    Reply reply = sim.push(safeUrl, safe, xml, true);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).contains("<Encrypt>").doesNotContain("Reset password");
    assertThat(reply.content()).isEqualTo("Open Settings, then Security, then Reset password.");
    assertThat(reply.plain()).contains("<ToUserName><![CDATA[" + user + "]]>").contains("<FromUserName><![CDATA[gh_safe]]>");
    assertThat(reply.millis()).isLessThan(5000);
    // WeChat's retry of the same push (same MsgId): the same reply, nothing asked or stored again
    Reply retry = sim.push(safeUrl, safe, xml, true);
    assertThat(retry.content()).isEqualTo(reply.content());
    assertThat(h.count("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        + "WHERE c.channel = 'wechat' AND c.visitor_id = '" + user + "'")).isEqualTo(2);
    assertThat(h.string("SELECT status FROM channel_messages WHERE open_id = '" + user + "'")).isEqualTo("replied");
    assertThat(sim.textsTo(user)).isEmpty();

    // the WeChat user is a visitor: erasure removes the conversation and the channel's rows
    HttpResponse<String> erased = h.send(h.request("/v1/visitors/" + user)
        .header("Authorization", "Bearer " + t.apiKey()).DELETE());
    assertThat(erased.statusCode()).isEqualTo(200);
    assertThat(h.count("SELECT count(*) FROM conversations WHERE visitor_id = '" + user + "'")).isZero();
    assertThat(h.count("SELECT count(*) FROM channel_messages WHERE open_id = '" + user + "'")).isZero();
  }

  @Test
  void aModelAnswerIsAcknowledgedAtOnceAndSentThroughTheApiWithTyping() throws Exception {
    String user = "o-model-" + UUID.randomUUID();
    Reply reply = sim.push(plainUrl, plain, WechatSimulator.text(plain, user, "PACED 300 2000 tell me more", msgId()), false);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEqualTo("success");
    // acknowledged within WeChat's 5 s, at the first try, before the answer ended (2 s after it began)
    assertThat(reply.attempts()).isEqualTo(1);
    assertThat(reply.millis()).isLessThan(5000);
    assertThat(sim.textsTo(user)).isEmpty();
    until("the answer is sent", Duration.ofSeconds(20), () -> sim.textsTo(user).size() == 1);
    assertThat(sim.textsTo(user)).containsExactly("Paced answer.");
    assertThat(sim.typingTo(user)).isEqualTo(1);
    assertThat(h.string("SELECT status FROM channel_messages WHERE open_id = '" + user + "'")).isEqualTo("sent");
    assertThat(h.string("SELECT c.channel || ':' || c.visitor_id FROM conversations c JOIN messages m "
        + "ON m.conversation_id = c.id WHERE m.content = 'Paced answer.'")).isEqualTo("wechat:" + user);
  }

  @Test
  void theAccessTokenIsFetchedOnceAndAgainAfterWeChatInvalidatesIt() throws Exception {
    String user = "o-token-" + UUID.randomUUID();
    int before = sim.tokenFetches.get();
    for (int i = 0; i < 3; i++) {
      sim.push(plainUrl, plain, WechatSimulator.text(plain, user, "PACED 10 300 q" + i, msgId()), false);
    }
    until("three answers", Duration.ofSeconds(20), () -> sim.textsTo(user).size() == 3);
    int fetched = sim.tokenFetches.get() - before;
    assertThat(fetched).isLessThanOrEqualTo(1);
    sim.expireTokens(); // the cached token is now refused with 40001: dropped, fetched again, the send retried
    sim.push(plainUrl, plain, WechatSimulator.text(plain, user, "PACED 10 300 after expiry", msgId()), false);
    until("the fourth answer", Duration.ofSeconds(20), () -> sim.textsTo(user).size() == 4);
    assertThat(sim.tokenFetches.get() - before).isEqualTo(fetched + 1);
  }

  @Test
  void aLongAnswerIsSplitAtWeChatsLimit() throws Exception {
    h.execOwner("UPDATE tenant_settings SET max_message_chars = 4000 WHERE tenant_id = '" + t.id() + "'");
    String user = "o-long-" + UUID.randomUUID();
    String question = "长".repeat(1500); // the emulated model echoes it: about 4,500 bytes of answer
    sim.push(plainUrl, plain, WechatSimulator.text(plain, user, question, msgId()), false);
    until("the parts arrive", Duration.ofSeconds(20), () -> String.join("", sim.textsTo(user)).length() >= 1506);
    assertThat(sim.textsTo(user)).hasSizeGreaterThan(2)
        .allSatisfy(p -> assertThat(p.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(2048));
    assertThat(String.join("", sim.textsTo(user))).isEqualTo("Echo: " + question);
  }

  @Test
  void eventsAndVoice() throws Exception {
    String user = "o-events-" + UUID.randomUUID();
    Reply welcome = sim.push(safeUrl, safe, WechatSimulator.event(safe, user, "subscribe", null, 1700000001L), true);
    assertThat(welcome.content()).isEqualTo("欢迎关注！Welcome!");
    // a menu key is asked as the question; a voice message's recognised text too (their answers come
    // passively or, when the pipeline is slower than the budget, through the API: either way once)
    sim.push(safeUrl, safe, WechatSimulator.event(safe, user, "CLICK", "How do I reset my password?", 1700000002L), true);
    Reply deaf = sim.push(safeUrl, safe, WechatSimulator.voice(safe, user, null, msgId()), true);
    assertThat(deaf.content()).contains("Voice messages are not recognised");
    sim.push(safeUrl, safe, WechatSimulator.voice(safe, user, "what are your opening hours", msgId()), true);
    until("both questions answered", Duration.ofSeconds(20), () -> h.count("SELECT count(*) FROM channel_messages "
        + "WHERE open_id = '" + user + "' AND status IN ('replied', 'sent') AND msg_type = 'voice'") == 2
        && h.count("SELECT count(*) FROM channel_messages WHERE open_id = '" + user + "' AND status IN ('replied', 'sent') "
        + "AND msg_type = 'event'") == 2);
    assertThat(h.string("SELECT string_agg(m.content, '|' ORDER BY m.created_at) FROM messages m JOIN conversations c "
        + "ON c.id = m.conversation_id WHERE c.visitor_id = '" + user + "' AND m.role = 'user'"))
        .isEqualTo("How do I reset my password?|what are your opening hours");
    // a picture: the user is told the model cannot read it; a shared link is asked about by its title and description
    sim.media("m1", new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0});
    Reply picture = sim.push(safeUrl, safe, "<xml><ToUserName><![CDATA[gh_safe]]></ToUserName><FromUserName><![CDATA["
        + user + "]]></FromUserName><CreateTime>1700000004</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        + "<PicUrl><![CDATA[http://127.0.0.1/p.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>" + msgId()
        + "</MsgId></xml>", true);
    assertThat(picture.content()).contains("cannot read pictures");
    sim.push(safeUrl, safe, "<xml><ToUserName><![CDATA[gh_safe]]></ToUserName><FromUserName><![CDATA[" + user
        + "]]></FromUserName><CreateTime>1700000005</CreateTime><MsgType><![CDATA[link]]></MsgType>"
        + "<Title><![CDATA[Warranty terms]]></Title><Description><![CDATA[two years]]></Description>"
        + "<Url><![CDATA[https://example.test/w]]></Url><MsgId>" + msgId() + "</MsgId></xml>", true);
    until("the link asked about", Duration.ofSeconds(20), () -> h.count("SELECT count(*) FROM messages m JOIN "
        + "conversations c ON c.id = m.conversation_id WHERE c.visitor_id = '" + user + "' AND m.role = 'user' "
        + "AND m.content = 'Warranty terms\ntwo years'") == 1);
    Reply bye = sim.push(safeUrl, safe, WechatSimulator.event(safe, user, "unsubscribe", null, 1700000003L), true);
    assertThat(bye.body()).isEqualTo("success");
  }

  @Test
  void forgedXxeAndPlaintextIntoSafeModeAreRefusedAndStoreNothing() throws Exception {
    String user = "o-bad-" + UUID.randomUUID();
    Account forger = new Account(safe.appId(), safe.secret(), "guessed-token", KEY, safe.ghId());
    assertThat(sim.push(safeUrl, forger, WechatSimulator.text(safe, user, "hi", msgId()), true).status()).isEqualTo(403);
    assertThat(sim.push(safeUrl, safe, WechatSimulator.text(safe, user, "hi", msgId()), false).status()).isEqualTo(403);
    String xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>"
        + WechatSimulator.text(plain, user, "&x;", msgId()).replace("<![CDATA[&x;]]>", "&x;");
    Reply refused = sim.push(plainUrl, plain, xxe, false);
    assertThat(refused.status()).isEqualTo(403);
    assertThat(h.count("SELECT count(*) FROM channel_messages WHERE open_id = '" + user + "'")).isZero();
  }

  @Test
  void aWeComApplicationAnswersThroughItsMessageApi() throws Exception {
    String user = "zhangsan-" + UUID.randomUUID().toString().substring(0, 8);
    Reply faq = sim.pushWecom(corpUrl, corp, WechatSimulator.text(corp, user, "how do I reset my password", msgId()));
    assertThat(faq.status()).isEqualTo(200);
    // passive when the FAQ answer came within the budget (on a loaded machine it may come through the API)
    assertThat(faq.content() == null ? "success" : faq.content()).isIn("success",
        "Open Settings, then Security, then Reset password.");
    int passive = faq.content() == null ? 0 : 1;
    Reply model = sim.pushWecom(corpUrl, corp, WechatSimulator.text(corp, user, "PACED 200 1500 wecom question", msgId()));
    assertThat(model.body()).isEqualTo("success");
    until("the WeCom answer", Duration.ofSeconds(20), () -> sim.textsTo(user).size() == 2 - passive);
    assertThat(sim.textsTo(user)).contains("Paced answer.");
    WechatSimulator.Call sent = sim.calls.stream().filter(c -> user.equals(c.body().getString("touser"))).findFirst()
        .orElseThrow();
    assertThat(sent.path()).isEqualTo("/cgi-bin/message/send");
    assertThat(sent.body().getInteger("agentid")).isEqualTo(1000002);
    assertThat(h.string("SELECT channel FROM conversations WHERE visitor_id = '" + user + "' LIMIT 1")).isEqualTo("wecom");
  }

  @Test
  void tenantsManageChannelsThroughTheApiAndSecretsNeverComeBack() throws Exception {
    ChatHarness.Tenant other = h.tenant("wechat-other");
    String secret = "s3cr3t-app-secret-value";
    io.vertx.core.json.JsonObject create = new io.vertx.core.json.JsonObject().put("kind", "wechat").put("name", "Main")
        .put("appId", "wx00000000000api1").put("appSecret", secret).put("token", "tokApi123").put("encodingAesKey", KEY)
        .put("mode", "safe").put("welcomeMessage", "hello");
    HttpResponse<String> created = h.postJson("/v1/channels", t.apiKey(), create.encode());
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.body()).doesNotContain(secret).doesNotContain("tokApi123").doesNotContain(KEY)
        .contains("\"appSecretSet\":true").contains("\"encodingAesKeySet\":true");
    io.vertx.core.json.JsonObject channel = new io.vertx.core.json.JsonObject(created.body());
    String id = channel.getString("id");
    assertThat(channel.getString("callbackPath")).isEqualTo("/channels/wechat/" + id);

    HttpResponse<String> list = h.send(h.request("/v1/channels").header("Authorization", "Bearer " + t.apiKey()).GET());
    assertThat(list.body()).contains(id).doesNotContain(secret).doesNotContain("tokApi123");
    assertThat(h.send(h.request("/v1/channels").header("Authorization", "Bearer " + other.apiKey()).GET()).body())
        .doesNotContain(id);

    // the channel works as saved: WeChat's URL check passes with its token
    Account saved = new Account("wx00000000000api1", secret, "tokApi123", KEY, "gh_api");
    assertThat(sim.verify("http://127.0.0.1:" + h.port + channel.getString("callbackPath"), saved, "e1").body())
        .isEqualTo("e1");

    // bad input: the API's JSON error, nothing changed
    HttpResponse<String> bad = h.postJson("/v1/channels", t.apiKey(), create.copy().put("encodingAesKey", "short").encode());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("\"code\":\"invalid_value\"").contains("encodingAesKey");
    assertThat(h.postJson("/v1/channels", t.apiKey(), create.copy().put("kind", "wecom").encode()).statusCode())
        .isEqualTo(400); // WeCom needs agentId
    assertThat(h.postJson("/v1/channels", t.apiKey(), create.copy().put("mode", "compatible").putNull("encodingAesKey")
        .encode()).statusCode()).isEqualTo(400);

    String patch = new io.vertx.core.json.JsonObject().put("mode", "compatible").put("appSecret", "rotated-secret").encode();
    HttpResponse<String> changed = h.send(h.request("/v1/channels/" + id).header("Authorization", "Bearer " + t.apiKey())
        .header("Content-Type", "application/json").method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(patch)));
    assertThat(changed.statusCode()).isEqualTo(200);
    assertThat(changed.body()).contains("\"mode\":\"compatible\"").doesNotContain("rotated-secret");
    // stored sealed (WechatChannelSecretsIntegrationTest checks what it opens to)
    assertThat(h.string("SELECT app_secret FROM channels WHERE id = '" + id + "'")).startsWith("v1:")
        .doesNotContain("rotated-secret");
    assertThat(h.string("SELECT string_agg(details::text, ' ') FROM audit_log WHERE target = '" + id + "'"))
        .contains("(changed)").doesNotContain("rotated-secret").doesNotContain(secret);

    // another tenant's key names no such channel
    HttpResponse<String> foreign = h.send(h.request("/v1/channels/" + id).header("Authorization", "Bearer " + other.apiKey())
        .header("Content-Type", "application/json").method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(patch)));
    assertThat(foreign.statusCode()).isEqualTo(404);
    assertThat(h.send(h.request("/v1/channels/" + id).header("Authorization", "Bearer " + other.apiKey()).DELETE())
        .statusCode()).isEqualTo(404);
    assertThat(h.send(h.request("/v1/channels/" + id).header("Authorization", "Bearer " + t.apiKey()).DELETE())
        .statusCode()).isEqualTo(204);
    assertThat(h.count("SELECT count(*) FROM channels WHERE id = '" + id + "'")).isZero();
  }

  @Test
  void eachWeChatUserHasTheVisitorRateLimit() throws Exception {
    ChatHarness.Tenant limited = h.tenant("wechat-limited");
    h.execOwner("UPDATE tenant_settings SET visitor_requests_per_minute = 2 WHERE tenant_id = '" + limited.id() + "'");
    UUID id = UUID.randomUUID();
    h.execOwner("INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, mode) VALUES ('" + id
        + "', '" + limited.id() + "', 'wechat', 'l', '" + plain.appId() + "', '" + plain.secret() + "', '"
        + plain.token() + "', 'plaintext')");
    String url = "http://127.0.0.1:" + h.port + "/channels/wechat/" + id;
    String user = "o-busy-" + UUID.randomUUID();
    for (int i = 0; i < 2; i++) {
      sim.push(url, plain, WechatSimulator.text(plain, user, "PACED 10 300 question " + i, msgId()), false);
    }
    Reply third = sim.push(url, plain, WechatSimulator.text(plain, user, "PACED 10 300 question 2", msgId()), false);
    String refusal = third.content() != null ? third.content() : null;
    if (refusal == null) { // the reply budget passed first: the refusal comes through the API
      until("the refusal", Duration.ofSeconds(20), () -> sim.textsTo(user).stream().anyMatch(x -> x.contains("Too many")));
    } else {
      assertThat(refusal).contains("Too many messages");
    }
    // another WeChat user of the same account is not held up
    String other = "o-calm-" + UUID.randomUUID();
    sim.push(url, plain, WechatSimulator.text(plain, other, "PACED 10 300 hello", msgId()), false);
    until("the other user's answer", Duration.ofSeconds(20), () -> sim.textsTo(other).contains("Paced answer."));
    assertThat(h.count("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        + "WHERE c.visitor_id = '" + user + "' AND m.role = 'user'")).isEqualTo(2);
  }

  @Test
  void anAnswerOwedPastWeChatsFortyEightHoursIsNotSent() throws Exception {
    String user = "o-late-" + UUID.randomUUID();
    String channel = plainUrl.substring(plainUrl.lastIndexOf('/') + 1);
    // a node died with this answer unsent two days ago; the sweep finds it now
    h.execOwner("INSERT INTO channel_messages (tenant_id, channel_id, dedupe_key, open_id, msg_type, question, status, "
        + "answer, lease_owner, lease_until, received_at) VALUES ('" + t.id() + "', '" + channel + "', 'msg:late-"
        + user + "', '" + user + "', 'text', 'q', 'answered', 'too late', 'gone-node', now() - interval '1 minute', "
        + "now() - interval '49 hours')");
    until("the sweep gives up on it", Duration.ofSeconds(30), () -> "failed".equals(
        h.string("SELECT status FROM channel_messages WHERE open_id = '" + user + "'")));
    assertThat(sim.textsTo(user)).isEmpty();
    assertThat(h.string("SELECT error FROM channel_messages WHERE open_id = '" + user + "'")).contains("48-hour");
  }

  @Test
  void theConsolesTestMessageIsALoopbackRoundTripOnTheChannelsOwnConfiguration() throws Exception {
    ChannelAdmin admin = new ChannelAdmin(h.vertx, h.platform, h.policy.audit());
    int callsBefore = sim.calls.size();
    JsonObject faq = await(admin.sendTestMessage(t.id(), idOf(safeUrl), "how do I reset my password", h.port));
    assertThat(faq.getBoolean("ok")).as(faq.encode()).isTrue();
    assertThat(faq.getBoolean("passive")).isTrue();
    assertThat(faq.getString("answer")).isEqualTo("Open Settings, then Security, then Reset password.");
    assertThat(faq.getLong("replyMs")).isLessThan(5000L);
    JsonObject model = await(admin.sendTestMessage(t.id(), idOf(plainUrl), "PACED 300 2000 test " + UUID.randomUUID(), h.port));
    assertThat(model.getBoolean("ok")).as(model.encode()).isTrue();
    assertThat(model.getBoolean("passive")).as(model.encode()).isFalse();
    assertThat(model.getString("answer")).isEqualTo("Paced answer.");
    assertThat(model.getLong("answerMs")).isGreaterThanOrEqualTo(model.getLong("replyMs"));
    JsonObject wecom = await(admin.sendTestMessage(t.id(), idOf(corpUrl), "PACED 10 300 hello " + UUID.randomUUID(), h.port));
    assertThat(wecom.getBoolean("ok")).as(wecom.encode()).isTrue();
    assertThat(wecom.getString("answer")).isEqualTo("Paced answer.");
    // the answers went to the round trip's own loopback simulator, never to the configured WeChat API
    assertThat(sim.calls.subList(callsBefore, sim.calls.size()))
        .noneMatch(c -> String.valueOf(c.body().getString("touser")).startsWith("deepchat-test-"));
    // another tenant's channel is not found
    ChatHarness.Tenant other = h.tenant("wechat-other-co");
    assertThatThrownBy(() -> await(admin.sendTestMessage(other.id(), idOf(safeUrl), "hi", h.port)))
        .hasRootCauseInstanceOf(HttpProblem.class);
  }

  @Test
  void aTestUsersAnswerWithNoRoundTripWaitingIsNeverSentToWeChat() throws Exception {
    String user = "deepchat-test-" + UUID.randomUUID().toString().substring(0, 8);
    Reply reply = sim.push(plainUrl, plain, WechatSimulator.text(plain, user, "PACED 10 300 anyone there", msgId()), false);
    assertThat(reply.body()).isEqualTo("success");
    until("the answer is given up", Duration.ofSeconds(20),
        () -> "failed".equals(h.string("SELECT status FROM channel_messages WHERE open_id = '" + user + "'")));
    assertThat(sim.textsTo(user)).isEmpty();
    assertThat(sim.typingTo(user)).isZero();
  }

  private static UUID idOf(String callbackUrl) {
    return UUID.fromString(callbackUrl.substring(callbackUrl.lastIndexOf('/') + 1));
  }
}
