package ai.deepchat.chat;

import ai.deepchat.chat.WechatSimulator.Account;
import ai.deepchat.chat.WechatSimulator.Reply;
import ai.deepchat.channel.wechat.ChannelAdmin;
import ai.deepchat.channel.wechat.ChannelFeature;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Channel secrets encrypted at rest, over real HTTP and PostgreSQL: what {@code /v1/channels} stores is
 * sealed (no plaintext in the row) and still answers WeChat's pushes; a value moved to another channel or
 * a node with another key is refused naming the channel; values stored before encryption are sealed at
 * start, once.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WechatChannelSecretsIntegrationTest {

  private static final String KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  private static final AtomicLong MSG_IDS = new AtomicLong(7054768590064713728L);
  private static final String FAQ_ANSWER = "Open Settings, then Security, then Reset password.";
  /** The FAQ's answer, or the emulated model's when a loaded machine routes past the FAQ in time. */
  private static final List<String> ANSWERS = List.of(FAQ_ANSWER, "Echo: how do I reset my password");

  private final WechatSimulator sim = new WechatSimulator();
  private final Account sealed = new Account("wx000000000sealed", "secret-sealed-1", "toksealed1", KEY, "gh_sealed");
  private final Account other = new Account("wx0000000000other", "secret-other-22", "tokother22", KEY, "gh_other");
  private final Account legacy = new Account("wx000000000legacy", "secret-legacy-3", "toklegacy3", KEY, "gh_legacy");
  private ChatHarness h;
  private ChatHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    sim.account(sealed).account(other).account(legacy).start(vertx, ChatHarness.ALLOWED_LOOPBACK);
    h = new ChatHarness(vertx).start(Map.of("WECHAT_API_BASE", sim.apiBase(), "CHANNEL_PASSIVE_BUDGET_MS", "4500"));
    t = h.tenant("secrets-co");
    h.execOwner("INSERT INTO faq_entries (tenant_id, question, answer) VALUES ('" + t.id()
        + "', 'How do I reset my password?', '" + FAQ_ANSWER + "')");
    // the first turn of a JVM loads the FAQ embedding model, which can outlast the passive budget
    askFaq(create(other, "Warm-up account"), other);
  }

  /** Created through {@code /v1/channels}; returns its id. */
  private String create(Account a, String name) {
    HttpResponse<String> created = h.postJson("/v1/channels", t.apiKey(), new JsonObject().put("kind", "wechat")
        .put("name", name).put("appId", a.appId()).put("appSecret", a.secret()).put("token", a.token())
        .put("encodingAesKey", a.aesKey()).put("mode", "safe").encode());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(created.body()).doesNotContain(a.secret()).doesNotContain(a.token()).doesNotContain(KEY);
    return new JsonObject(created.body()).getString("id");
  }

  private String url(String id) {
    return "http://127.0.0.1:" + h.port + "/channels/wechat/" + id;
  }

  /**
   * The answer to a push on that channel: the passive reply (opened with the channel's EncodingAESKey),
   * or, when a loaded machine misses the passive budget, the text sent through the simulated API (which
   * the node reaches with the channel's AppSecret).
   */
  private String askFaq(String id, Account a) throws Exception {
    String user = "o-" + UUID.randomUUID();
    Reply reply = sim.push(url(id), a, WechatSimulator.text(a, user, "how do I reset my password",
        MSG_IDS.incrementAndGet()), true);
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    if (reply.content() != null) {
      return reply.content();
    }
    until("the answer through the API", Duration.ofSeconds(30), () -> !sim.textsTo(user).isEmpty());
    return sim.textsTo(user).get(0);
  }

  private String row(String id) {
    return h.string("SELECT app_secret || ' ' || token || ' ' || encoding_aes_key FROM channels WHERE id = '" + id + "'");
  }

  @Test
  void storedSealedWithNoPlaintextInTheRowAndStillAnswering() throws Exception {
    String id = create(sealed, "Sealed account");
    String stored = row(id);
    assertThat(stored).doesNotContain(sealed.secret()).doesNotContain(sealed.token()).doesNotContain(KEY);
    assertThat(stored.split(" ")).hasSize(3).allMatch(v -> v.matches("v1:[0-9a-f]{8}:[A-Za-z0-9_-]+"));
    assertThat(h.send(h.request("/v1/channels").header("Authorization", "Bearer " + t.apiKey()).GET()).body())
        .contains(id).doesNotContain(sealed.secret()).doesNotContain(sealed.token()).doesNotContain(KEY);

    // the token opens for the signature, the EncodingAESKey for safe mode's encryption
    HttpResponse<String> verified = sim.verify(url(id), sealed, "echo-sealed");
    assertThat(verified.body()).isEqualTo("echo-sealed");
    assertThat(askFaq(id, sealed)).isIn(ANSWERS);

    // a secret changed through the API is sealed again (fresh nonce), the others keep their values
    HttpResponse<String> patched = h.send(h.request("/v1/channels/" + id).header("Authorization", "Bearer " + t.apiKey())
        .header("Content-Type", "application/json")
        .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"token\":\"toksealed9\"}")));
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    String after = row(id);
    assertThat(after).doesNotContain("toksealed9");
    assertThat(after.split(" ")[0]).isEqualTo(stored.split(" ")[0]);
    assertThat(after.split(" ")[1]).isNotEqualTo(stored.split(" ")[1]);
    Account rotated = new Account(sealed.appId(), sealed.secret(), "toksealed9", KEY, sealed.ghId());
    assertThat(sim.verify(url(id), rotated, "echo-2").body()).isEqualTo("echo-2");
  }

  @Test
  void aSecretCopiedToAnotherChannelOrANodeWithAnotherKeyIsRefusedNamingTheChannel() throws Exception {
    String mine = create(other, "Copied-into account");
    String donor = create(sealed, "Donor account");
    // someone with database access copies the donor's sealed token into this channel
    h.execOwner("UPDATE channels SET token = (SELECT token FROM channels WHERE id = '" + donor + "') WHERE id = '"
        + mine + "'");
    HttpResponse<String> verify = sim.verify(url(mine), sealed, "echo-x");
    assertThat(verify.statusCode()).isEqualTo(503);
    assertThat(verify.body()).contains("channel_unavailable").doesNotContain("echo-x").doesNotContain("toksealed");
    // the admin's test message says which channel and why; the node keeps serving the others
    ChannelAdmin admin = new ChannelAdmin(h.vertx, h.platform, h.policy.audit());
    JsonObject test = await(admin.sendTestMessage(t.id(), UUID.fromString(mine), "hello", h.port));
    assertThat(test.getBoolean("ok")).isFalse();
    assertThat(test.getString("error")).contains("Copied-into account").contains(mine).contains("token")
        .contains("copied from another row or tenant");
    assertThat(askFaq(donor, sealed)).isIn(ANSWERS);

    // a node configured with another key: told which key the value needs, not garbled
    byte[] otherKey = new byte[32];
    otherKey[0] = 7;
    Platform elsewhere = new Platform(ConfigLoader.load(Map.of("DATA_DIR", h.platform.config().dataDir().toString(),
        "SECRETS_KEY", Base64.getEncoder().encodeToString(otherKey)), new String[0]), h.db, "other-node");
    JsonObject wrongKey = await(new ChannelAdmin(h.vertx, elsewhere, h.policy.audit())
        .sendTestMessage(t.id(), UUID.fromString(donor), "hello", h.port));
    assertThat(wrongKey.getBoolean("ok")).isFalse();
    assertThat(wrongKey.getString("error")).contains("Donor account").contains("app_secret")
        .contains("which this node does not have").contains("SECRETS_KEY");
  }

  @Test
  void valuesStoredBeforeEncryptionAreSealedAtStartOnce() throws Exception {
    String id = UUID.randomUUID().toString();
    h.execOwner("INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, encoding_aes_key, mode) "
        + "VALUES ('" + id + "', '" + t.id() + "', 'wechat', 'Legacy account', '" + legacy.appId() + "', '"
        + legacy.secret() + "', '" + legacy.token() + "', '" + KEY + "', 'safe')");
    // until sealed, a stored plaintext value still serves
    assertThat(askFaq(id, legacy)).isIn(ANSWERS);

    // a node starting (its sweep) seals it
    String sweeper = await(ChannelFeature.deploySweeper(h.vertx, h.platform, h.policy.limits()));
    String stored = row(id);
    assertThat(stored).doesNotContain(legacy.secret()).doesNotContain(legacy.token()).doesNotContain(KEY);
    assertThat(stored.split(" ")).allMatch(v -> v.startsWith("v1:"));
    assertThat(askFaq(id, legacy)).isIn(ANSWERS);
    // again: nothing left to do, the row keeps its values
    String again = await(ChannelFeature.deploySweeper(h.vertx, h.platform, h.policy.limits()));
    assertThat(row(id)).isEqualTo(stored);
    await(h.vertx.undeploy(sweeper));
    await(h.vertx.undeploy(again));
  }
}
