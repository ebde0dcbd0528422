package ai.deepchat.chat;

import ai.deepchat.platform.security.AuthChangeVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A widget turn in a conversation asks whether a person took it over (then the bot stays silent). A
 * conversation the node found without an open handoff is remembered, so its next turns run no lookup
 * (one transaction less per such turn); a handoff opened afterwards, even with plain SQL, silences the
 * bot from the next message on (V51's notification).
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WidgetHandoffLookupTest {

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start(java.util.Map.of("CHAT_REQUEST_TIMEOUT_MS", "15000"));
    await(vertx.deployVerticle(new AuthChangeVerticle(h.db)));
    until("listening", Duration.ofSeconds(5), () -> h.db.withoutOpenHandoff().live());
  }

  /** Two answered turns in one conversation (the second finds no handoff); the conversation's id. */
  private String conversationOfTwoTurns(WidgetVisitorSocket v, List<JsonObject> seen) throws Exception {
    v.say("What are your opening hours?", null);
    String conv = v.next("start", seen).getString("conversationId");
    v.next("done", seen);
    v.say("And on Sundays?", conv);
    v.next("done", seen);
    return conv;
  }

  /**
   * With the handoffs table locked by another session, a lookup would wait for the lock: the turn is
   * answered all the same, so it ran none.
   */
  private void answeredWithHandoffsLocked(WidgetVisitorSocket v, String conv, List<JsonObject> seen) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("LOCK TABLE handoffs IN ACCESS EXCLUSIVE MODE");
      v.say("And on holidays?", conv);
      assertThat(v.next("done", seen).getString("intent")).isEqualTo("chat");
      c.rollback();
    }
  }

  /** A conversation a lookup found without handoff is not looked up again. */
  @Test
  void aConversationWithoutHandoffIsNotLookedUpAgain() throws Exception {
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, h.tenant("lookup-once"));
    List<JsonObject> seen = new ArrayList<>();
    String conv = conversationOfTwoTurns(v, seen);
    h.db.withoutOpenHandoff().reset(true); // forget what the first turn stored: the second turn's lookup is remembered
    v.say("And in winter?", conv);
    v.next("done", seen);
    answeredWithHandoffsLocked(v, conv, seen);
  }

  /** A conversation the bot just started cannot have a handoff: its second turn runs no lookup either. */
  @Test
  void aNewConversationIsNotLookedUp() throws Exception {
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, h.tenant("lookup-new"));
    List<JsonObject> seen = new ArrayList<>();
    v.say("What are your opening hours?", null);
    String conv = v.next("start", seen).getString("conversationId");
    v.next("done", seen);
    answeredWithHandoffsLocked(v, conv, seen);
  }

  @Test
  void aHandoffOpenedWithSqlSilencesTheBotOnTheNextMessage() throws Exception {
    ChatHarness.Tenant t = h.tenant("lookup-sql");
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, t);
    List<JsonObject> seen = new ArrayList<>();
    String conv = conversationOfTwoTurns(v, seen);
    assertThat(h.db.withoutOpenHandoff().absent(t.id(), UUID.fromString(conv))).as("remembered").isTrue();
    h.execOwner("INSERT INTO handoffs (tenant_id, conversation_id, visitor_id, reason) VALUES ('" + t.id() + "', '"
        + conv + "', '" + v.id + "', 'asked')");
    until("the opening announced", Duration.ofSeconds(5),
        () -> !h.db.withoutOpenHandoff().absent(t.id(), UUID.fromString(conv)));
    int calls = h.remote.requests.size();
    v.say("hello? anyone there", conv);
    assertThat(v.next("visitor.stored", seen).getString("conversation_id")).isEqualTo(conv);
    assertThat(h.remote.requests.size()).as("no model call").isEqualTo(calls);
  }

  /** The bot's own escalation (asked for a person) silences it from the next message, as without the memory. */
  @Test
  void anEscalationSilencesTheBotOnTheNextMessage() throws Exception {
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, h.tenant("lookup-esc"));
    List<JsonObject> seen = new ArrayList<>();
    String conv = conversationOfTwoTurns(v, seen);
    v.say("我要转人工", conv);
    assertThat(v.next("handoff.queued", seen).getString("conversation_id")).isEqualTo(conv);
    v.say("hello? anyone there", conv);
    assertThat(v.next("visitor.stored", seen).getString("conversation_id")).isEqualTo(conv);
  }
}
