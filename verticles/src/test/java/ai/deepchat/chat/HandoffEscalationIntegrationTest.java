package ai.deepchat.chat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Escalation to a person through the whole chat path (router, pipeline, widget socket, PostgreSQL): the
 * visitor asks for a person, a tenant rule chooses one, or two answers get a thumbs-down; afterwards the
 * bot stays silent in that conversation. GDPR erasure of the visitor takes its tickets along.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandoffEscalationIntegrationTest {

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    // routing embeds the question (person requests are checked after FAQ matching): the first embedding of
    // a JVM loads the model, so the turn's routing gets more than the harness's 2 s on a busy machine
    h = new ChatHarness(vertx).start(java.util.Map.of("CHAT_REQUEST_TIMEOUT_MS", "15000"));
  }

  @Test
  void askingForAPersonQueuesTheConversationAndSilencesTheBot() throws Exception {
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, h.tenant("esc-ask"));
    List<JsonObject> seen = new ArrayList<>();
    v.say("我要转人工", null);
    String conv = v.next("start", seen).getString("conversationId");
    JsonObject done = v.next("done", seen);
    assertThat(done.getString("intent")).isEqualTo("handoff");
    assertThat(seen.toString()).contains("转接人工");
    JsonObject queued = v.next("handoff.queued", seen);
    assertThat(queued.getString("conversation_id")).isEqualTo(conv);
    assertThat(queued.getLong("position")).isEqualTo(1);
    assertThat(h.count("SELECT count(*) FROM handoffs WHERE reason = 'asked' AND conversation_id = '" + conv + "'")).isEqualTo(1);

    // from now on the bot is silent: stored for the staff, no model call, no answer
    int calls = h.remote.requests.size();
    v.say("hello? anyone there", conv);
    JsonObject stored = v.next("visitor.stored", seen);
    assertThat(stored.getString("conversation_id")).isEqualTo(conv);
    assertThat(h.count("SELECT count(*) FROM messages WHERE id = '" + stored.getString("id")
        + "' AND role = 'user' AND content = 'hello? anyone there'")).isEqualTo(1);
    Thread.sleep(300);
    assertThat(h.remote.requests.size()).isEqualTo(calls);
    assertThat(v.frames.stream().map(f -> f.getString("type"))).doesNotContain("start", "delta");
  }

  @Test
  void aTenantRuleChoosesAPerson() throws Exception {
    ChatHarness.Tenant t = h.tenant("esc-rule");
    await(h.db.inTenant(t.id(), c -> c.preparedQuery("INSERT INTO intent_rules (tenant_id, intent, kind, pattern) "
        + "VALUES ($1, 'handoff', 'keyword', 'refund')").execute(Tuple.of(t.id()))));
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, t);
    List<JsonObject> seen = new ArrayList<>();
    v.say("I would like a refund for my order", null);
    assertThat(v.next("done", seen).getString("intent")).isEqualTo("handoff");
    v.next("handoff.queued", seen);
  }

  @Test
  void twoThumbsDownEscalate() throws Exception {
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, h.tenant("esc-thumbs"));
    List<JsonObject> seen = new ArrayList<>();
    v.say("What is the capital of Atlantis?", null);
    JsonObject first = v.next("start", seen);
    String conv = first.getString("conversationId");
    v.next("done", seen);
    v.say("And its population?", conv);
    JsonObject second = v.next("start", seen);
    v.next("done", seen);
    for (JsonObject answer : List.of(first, second)) {
      assertThat(v.post("/widget/feedback", new JsonObject().put("messageId", answer.getString("messageId")).put("value", -1))
          .statusCode()).isEqualTo(204);
    }
    assertThat(v.next("handoff.queued", seen).getString("conversation_id")).isEqualTo(conv);
    assertThat(h.count("SELECT count(*) FROM handoffs WHERE reason = 'negative_feedback'")).isEqualTo(1);
  }

  @Test
  void erasingTheVisitorErasesItsTickets() throws Exception {
    ChatHarness.Tenant t = h.tenant("esc-erase");
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, t);
    List<JsonObject> seen = new ArrayList<>();
    v.say("Hello", null);
    String conv = v.next("start", seen).getString("conversationId");
    v.next("done", seen);
    HttpResponse<String> ticket = v.post("/widget/tickets", new JsonObject().put("conversation_id", conv)
        .put("message", "Call me back").put("email", "li@example.test"));
    assertThat(ticket.statusCode()).as(ticket.body()).isEqualTo(201);
    assertThat(h.count("SELECT count(*) FROM tickets WHERE visitor_id = '" + v.id + "'")).isEqualTo(1);
    HttpResponse<String> del = h.send(h.request("/v1/visitors/" + v.id).header("Authorization", "Bearer " + t.apiKey()).DELETE());
    assertThat(del.statusCode()).as(del.body()).isEqualTo(200);
    assertThat(h.count("SELECT count(*) FROM tickets WHERE visitor_id = '" + v.id + "'")).isZero();
  }
}
