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
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes on one database (each its own Vert.x, gateway and pipeline; WeChat's simulator apart): a
 * push and its duplicate reach different nodes and are answered once; the node that acknowledged a push
 * stops before its answer is out, and the other node sends that answer, once. A node that finds its lease
 * taken (it stalled past it) stops generating. A third node dies in the middle of two answers: one it is
 * still generating, one whose second part is in flight; node B takes both over within seconds (not after
 * the pipeline's two-minute stall) and WeChat receives every part exactly once.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the second test stops node A
class WechatTakeOverIntegrationTest {

  /** The test's lease (2 s) plus a sweep, a regeneration and a send, with a wide margin for a loaded machine. */
  private static final Duration TAKE_OVER = Duration.ofSeconds(15);

  private final WechatSimulator sim = new WechatSimulator();
  private final Account account = new Account("wx000000000000ha1", "secret-ha", "tok-ha", null, "gh_ha");
  private Vertx vertxA;
  private Vertx vertxB;
  private Vertx vertxDoomed;
  private ChatHarness a;
  private ChatHarness b;
  private String path;
  private Map<String, String> env;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    sim.account(account).start(vertx, ChatHarness.ALLOWED_LOOPBACK);
    // short leases and sweeps, so that a take-over happens within seconds; one secrets key for every
    // node, as a cluster needs (each node's own DATA_DIR would otherwise hold a key of its own)
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    env = Map.of("WECHAT_API_BASE", sim.apiBase(), "CHANNEL_LEASE_SECONDS", "2", "CHANNEL_HEARTBEAT_MS", "500",
        "CHANNEL_SWEEP_INTERVAL_MS", "300", "SECRETS_KEY", java.util.Base64.getEncoder().encodeToString(key));
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
    if (vertxDoomed != null) {
      await(vertxDoomed.close());
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

  @Test
  @Order(3)
  void aNodeThatFindsItsLeaseTakenStopsGenerating() throws Exception {
    String user = "o-stalled-" + UUID.randomUUID();
    b.remote.allSlow = true; // a model that never finishes: only the node's own decision ends it
    try {
      assertThat(sim.push(url(b), account, WechatSimulator.text(account, user, "tell me about returns",
          7_100_000_000_000_000_003L), false).body()).isEqualTo("success");
      until("node B generating", Duration.ofSeconds(10), () -> answers(user, "streaming") == 1);
      // as if node B had stalled past its lease and another node had taken the message over
      b.execOwner("UPDATE channel_messages SET lease_owner = 'another-node', lease_until = now() + interval '1 hour' "
          + "WHERE open_id = '" + user + "'");
      await(b.remote.slowClosed.future(), Duration.ofSeconds(10)); // its next heartbeat: the model call ends
      Thread.sleep(1000);
      assertThat(sim.textsTo(user)).isEmpty();
      assertThat(row(user)).isEqualTo("received:0:another-node");
    } finally {
      b.remote.allSlow = false;
    }
  }

  @Test
  @Order(4)
  void aNodeKilledMidAnswerIsTakenOverInSecondsAndEveryPartArrivesOnce() throws Exception {
    vertxDoomed = Vertx.vertx();
    ChatHarness doomed = new ChatHarness(vertxDoomed, b, "doomed").start(env);
    String sending = "o-parts-" + UUID.randomUUID();
    String generating = "o-gen-" + UUID.randomUUID();

    // 1. a three-part answer: the first part is delivered, the second is in flight when the node dies
    int heldBefore = sim.heldSends.get();
    sim.passBeforeHold.set(1);
    sim.holdSends = true;
    assertThat(sim.push(url(doomed), account, WechatSimulator.text(account, sending, "LONG 4500 tell me everything",
        7_100_000_000_000_000_004L), false).body()).isEqualTo("success");
    until("the first part out and the second in flight", Duration.ofSeconds(20), () -> sim.heldSends.get() == heldBefore + 1);
    assertThat(sim.textsTo(sending)).hasSize(1);
    assertThat(row(sending)).isEqualTo("answered:1:doomed");

    // 2. an answer still being generated: the doomed node's model never finishes
    doomed.remote.allSlow = true;
    assertThat(sim.push(url(doomed), account, WechatSimulator.text(account, generating, "what is the warranty",
        7_100_000_000_000_000_005L), false).body()).isEqualTo("success");
    until("the doomed node generating", Duration.ofSeconds(10), () -> answers(generating, "streaming") == 1);
    assertThat(row(generating)).isEqualTo("received:0:doomed");

    // sudden death: no more writes to the database, no more heartbeats, the connection of the send in flight drops
    await(doomed.db.close());
    await(vertxDoomed.close());
    vertxDoomed = null;
    long diedAt = System.nanoTime();
    sim.holdSends = false;

    until("both answers complete from node B", TAKE_OVER, () -> sim.textsTo(generating).size() == 1
        && sim.textsTo(sending).size() == 3);
    long tookMs = (System.nanoTime() - diedAt) / 1_000_000;
    Thread.sleep(3000); // more heartbeats and sweeps come and go: still once
    assertThat(sim.textsTo(generating)).containsExactly("Echo: what is the warranty");
    assertThat(row(generating)).isEqualTo("sent:1:node-b");
    // the dead node's half answer is gone: one question, one complete answer in the conversation
    assertThat(answers(generating, "complete")).isEqualTo(1);
    assertThat(answers(generating, "streaming")).isZero();

    List<String> parts = sim.textsTo(sending);
    assertThat(parts).hasSize(3).doesNotHaveDuplicates();
    assertThat(parts.get(0)).startsWith("Sentence 1 of a long answer.");
    assertThat(String.join("", parts)).isEqualTo(b.string("SELECT a.content FROM messages a JOIN messages u "
        + "ON a.reply_to = u.id JOIN conversations c ON c.id = u.conversation_id WHERE c.visitor_id = '" + sending
        + "' AND a.status = 'complete'"));
    assertThat(row(sending)).isEqualTo("sent:3:node-b");
    System.out.printf("taken over and sent %d ms after the node died%n", tookMs);
  }

  /** The channel message's status, parts sent and lease holder. */
  private String row(String user) {
    return b.string("SELECT status || ':' || parts_sent || ':' || lease_owner FROM channel_messages "
        + "WHERE open_id = '" + user + "'");
  }

  /** The user's assistant messages in {@code status}. */
  private long answers(String user, String status) {
    return b.count("SELECT count(*) FROM messages a JOIN conversations c ON c.id = a.conversation_id "
        + "WHERE c.visitor_id = '" + user + "' AND a.role = 'assistant' AND a.status = '" + status + "'");
  }
}
