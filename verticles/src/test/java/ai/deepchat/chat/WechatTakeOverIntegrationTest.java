package ai.deepchat.chat;

import ai.deepchat.chat.WechatSimulator.Account;
import ai.deepchat.chat.WechatSimulator.Reply;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes on one database (each its own Vert.x, gateway and pipeline; WeChat's simulator apart): a
 * push and its duplicate reach different nodes and are answered once; the node that acknowledged a push
 * stops before its answer is out, and the other node sends that answer, once.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the last test stops node A
class WechatTakeOverIntegrationTest {

  private final WechatSimulator sim = new WechatSimulator();
  private final Account account = new Account("wx000000000000ha1", "secret-ha", "tok-ha", null, "gh_ha");
  private Vertx vertxA;
  private Vertx vertxB;
  private ChatHarness a;
  private ChatHarness b;
  private String path;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    sim.account(account).start(vertx, ChatHarness.ALLOWED_LOOPBACK);
    // short leases and sweeps, so that a take-over happens within seconds
    Map<String, String> env = Map.of("WECHAT_API_BASE", sim.apiBase(), "CHANNEL_LEASE_SECONDS", "2", "CHANNEL_HEARTBEAT_MS", "500",
        "CHANNEL_SWEEP_INTERVAL_MS", "300");
    vertxA = Vertx.vertx();
    vertxB = Vertx.vertx();
    a = new ChatHarness(vertxA).start(env);
    b = new ChatHarness(vertxB, a, "node-b").start(env);
    ChatHarness.Tenant t = a.tenant("wechat-ha");
    UUID id = UUID.randomUUID();
    a.execOwner("INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, mode) VALUES ('" + id
        + "', '" + t.id() + "', 'wechat', 'ha', '" + account.appId() + "', '" + account.secret() + "', '"
        + account.token() + "', 'plaintext')");
    path = "/channels/wechat/" + id;
  }

  @AfterAll
  void stop() throws Exception {
    await(vertxB.close());
    if (vertxA != null) {
      await(vertxA.close());
    }
  }

  private String url(ChatHarness node) {
    return "http://127.0.0.1:" + node.port + path;
  }

  @Test
  @Order(1)
  void aPushAndItsDuplicateOnTwoNodesAreAnsweredOnce() throws Exception {
    String user = "o-dup-" + UUID.randomUUID();
    String xml = WechatSimulator.text(account, user, "PACED 100 1500 the same question", 7_100_000_000_000_000_001L);
    Reply first = sim.push(url(a), account, xml, false);
    Reply second = sim.push(url(b), account, xml, false);
    assertThat(first.body()).isEqualTo("success");
    assertThat(second.body()).isEqualTo("success");
    until("the answer", Duration.ofSeconds(20), () -> sim.textsTo(user).size() == 1);
    Thread.sleep(3000); // leases and sweeps come and go: still one answer, one question stored
    assertThat(sim.textsTo(user)).containsExactly("Paced answer.");
    assertThat(a.count("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        + "WHERE c.visitor_id = '" + user + "' AND m.role = 'user'")).isEqualTo(1);
  }

  @Test
  @Order(2)
  void theAnswerOfANodeThatStoppedAfterItsAckIsSentOnceByAnother() throws Exception {
    String user = "o-ha-" + UUID.randomUUID();
    sim.holdSends = true; // node A's send of the answer never completes: A stops while it is in flight
    Reply ack = sim.push(url(a), account, WechatSimulator.text(account, user, "PACED 100 400 what is the warranty",
        7_100_000_000_000_000_002L), false);
    assertThat(ack.body()).isEqualTo("success");
    until("node A sends the answer", Duration.ofSeconds(20), () -> sim.heldSends.get() == 1);
    assertThat(a.string("SELECT status || ':' || lease_owner FROM channel_messages WHERE open_id = '" + user + "'"))
        .isEqualTo("answered:test-node");
    await(vertxA.close());
    vertxA = null;
    sim.holdSends = false;
    until("node B sends the answer", Duration.ofSeconds(30), () -> sim.textsTo(user).size() == 1);
    Thread.sleep(3000); // more leases and sweeps: still once
    assertThat(sim.textsTo(user)).containsExactly("Paced answer.");
    assertThat(b.string("SELECT status || ':' || lease_owner FROM channel_messages WHERE open_id = '" + user + "'"))
        .isEqualTo("sent:node-b");
  }
}
