package ai.deepchat.chat;

import ai.deepchat.chat.WechatSimulator.Account;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
 * A node dies in the middle of two channel answers, with the default heartbeat, lease and sweep: one it
 * is still generating (its model never finishes), one whose first part it sent while its second part is
 * in flight. The surviving node (each node its own Vert.x, gateway and pipeline, one database) takes both
 * over within seconds, not after the pipeline's two-minute stall: the first answer is generated again and
 * sent once, the second goes on from its second part; WeChat receives every part exactly once. And a node
 * that finds its lease taken (it stalled past it) stops generating.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WechatMidGenerationTakeOverTest {

  /** The default lease (10 s) plus a sweep (2 s), a regeneration and a send, with a margin for a loaded machine. */
  private static final Duration TAKE_OVER = Duration.ofSeconds(25);

  private final WechatSimulator sim = new WechatSimulator();
  private final Account account = new Account("wx000000000000mg1", "secret-mg", "tok-mg", null, "gh_mg");
  private Vertx vertxSurvivor;
  private Vertx vertxDoomed;
  private ChatHarness survivor;
  private ChatHarness doomed;
  private String path;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    sim.account(account).start(vertx, ChatHarness.ALLOWED_LOOPBACK);
    Map<String, String> env = Map.of("WECHAT_API_BASE", sim.apiBase());
    vertxSurvivor = Vertx.vertx();
    vertxDoomed = Vertx.vertx();
    survivor = new ChatHarness(vertxSurvivor).start(env);
    doomed = new ChatHarness(vertxDoomed, survivor, "doomed").start(env);
    ChatHarness.Tenant t = survivor.tenant("wechat-mid");
    UUID id = UUID.randomUUID();
    survivor.execOwner("INSERT INTO channels (id, tenant_id, kind, name, app_id, app_secret, token, mode) VALUES ('"
        + id + "', '" + t.id() + "', 'wechat', 'mid', '" + account.appId() + "', '" + account.secret() + "', '"
        + account.token() + "', 'plaintext')");
    path = "/channels/wechat/" + id;
  }

  @AfterAll
  void stop() throws Exception {
    await(vertxSurvivor.close());
    if (vertxDoomed != null) {
      await(vertxDoomed.close());
    }
  }

  @Test
  void aNodeKilledMidAnswerIsTakenOverInSecondsAndEveryPartArrivesOnce() throws Exception {
    String doomedUrl = "http://127.0.0.1:" + doomed.port + path;
    String sending = "o-parts-" + UUID.randomUUID();
    String generating = "o-gen-" + UUID.randomUUID();

    // 1. a three-part answer: the first part is delivered, the second is in flight when the node dies
    sim.passBeforeHold.set(1);
    sim.holdSends = true;
    assertThat(sim.push(doomedUrl, account, WechatSimulator.text(account, sending, "LONG 4500 tell me everything",
        7_200_000_000_000_000_001L), false).body()).isEqualTo("success");
    until("the first part out and the second in flight", Duration.ofSeconds(20), () -> sim.heldSends.get() == 1);
    assertThat(sim.textsTo(sending)).hasSize(1);
    assertThat(row(sending)).isEqualTo("answered:1:doomed");

    // 2. an answer still being generated: the doomed node's model never finishes
    doomed.remote.allSlow = true;
    assertThat(sim.push(doomedUrl, account, WechatSimulator.text(account, generating, "what is the warranty",
        7_200_000_000_000_000_002L), false).body()).isEqualTo("success");
    until("the doomed node generating", Duration.ofSeconds(10), () -> answers(generating, "streaming") == 1);
    assertThat(row(generating)).isEqualTo("received:0:doomed");

    // sudden death: no more writes to the database, no more heartbeats, the connection of the send in flight drops
    await(doomed.db.close());
    await(vertxDoomed.close());
    vertxDoomed = null;
    long diedAt = System.nanoTime();
    sim.holdSends = false;

    until("both answers complete from the survivor", TAKE_OVER, () -> sim.textsTo(generating).size() == 1
        && sim.textsTo(sending).size() == 3);
    long tookMs = (System.nanoTime() - diedAt) / 1_000_000;
    Thread.sleep(3000); // more heartbeats and sweeps come and go: still once
    assertThat(sim.textsTo(generating)).containsExactly("Echo: what is the warranty");
    assertThat(row(generating)).isEqualTo("sent:1:test-node");
    // the dead node's half answer is gone: one question, one complete answer in the conversation
    assertThat(answers(generating, "complete")).isEqualTo(1);
    assertThat(answers(generating, "streaming")).isZero();

    List<String> parts = sim.textsTo(sending);
    assertThat(parts).hasSize(3).doesNotHaveDuplicates();
    assertThat(parts.get(0)).startsWith("Sentence 1 of a long answer.");
    assertThat(String.join("", parts)).isEqualTo(survivor.string("SELECT a.content FROM messages a JOIN messages u "
        + "ON a.reply_to = u.id JOIN conversations c ON c.id = u.conversation_id WHERE c.visitor_id = '" + sending
        + "' AND a.status = 'complete'"));
    assertThat(row(sending)).isEqualTo("sent:3:test-node");
    System.out.printf("taken over and sent %d ms after the node died%n", tookMs);
  }

  @Test
  void aNodeThatFindsItsLeaseTakenStopsGenerating() throws Exception {
    String user = "o-stalled-" + UUID.randomUUID();
    survivor.remote.allSlow = true; // a model that never finishes: only this node's own decision ends it
    try {
      assertThat(sim.push("http://127.0.0.1:" + survivor.port + path, account, WechatSimulator.text(account, user,
          "tell me about returns", 7_200_000_000_000_000_003L), false).body()).isEqualTo("success");
      until("the node generating", Duration.ofSeconds(10), () -> answers(user, "streaming") == 1);
      // as if this node had stalled past its lease and another had taken the message over
      survivor.execOwner("UPDATE channel_messages SET lease_owner = 'another-node', lease_until = now() + "
          + "interval '1 hour' WHERE open_id = '" + user + "'");
      await(survivor.remote.slowClosed.future(), Duration.ofSeconds(15)); // the next heartbeat finds the lease taken: the model call ends
      Thread.sleep(1000);
      assertThat(sim.textsTo(user)).isEmpty();
      assertThat(row(user)).isEqualTo("received:0:another-node");
    } finally {
      survivor.remote.allSlow = false;
    }
  }

  /** The channel message's status, parts sent and lease holder. */
  private String row(String user) {
    return survivor.string("SELECT status || ':' || parts_sent || ':' || lease_owner FROM channel_messages "
        + "WHERE open_id = '" + user + "'");
  }

  /** The user's assistant messages in {@code status}. */
  private long answers(String user, String status) {
    return survivor.count("SELECT count(*) FROM messages a JOIN conversations c ON c.id = a.conversation_id "
        + "WHERE c.visitor_id = '" + user + "' AND a.role = 'assistant' AND a.status = '" + status + "'");
  }
}
