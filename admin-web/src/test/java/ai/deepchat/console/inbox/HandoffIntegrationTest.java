package ai.deepchat.console.inbox;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The human handoff over real HTTP, WebSocket, SSE and PostgreSQL: a visitor's widget and an agent's
 * inbox on one node (docs/api.md, "Human handoff").
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandoffIntegrationTest {

  private HandoffHarness h;
  private HandoffHarness.Tenant a;
  private HandoffHarness.Tenant b;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = HandoffHarness.start(vertx);
    a = h.tenant("hand-alpha");
    b = h.tenant("hand-beta");
    HandoffHarness.Staff admin = h.new Staff(a, "admin@hand-alpha.test");
    admin.ok(admin.post("/console/api/inbox/settings", new JsonObject().put("assignment", "pick").put("cap", 2)));
  }

  @Test
  void escalateClaimTalkNoteResolve() throws Exception {
    HandoffHarness.Visitor v = h.visitor(a).connect();
    HandoffHarness.Staff ann = h.new Staff(a, "ann@hand-alpha.test").listen();
    List<JsonObject> seen = new ArrayList<>();
    String conv = v.conversation.toString();

    JsonObject queued = new JsonObject(v.post("/widget/handoff", new JsonObject().put("conversation_id", conv)).body());
    assertThat(queued.getString("state")).isEqualTo("queued");
    assertThat(queued.getInteger("position")).isGreaterThanOrEqualTo(1);
    assertThat(queued.getLong("expected_wait_s")).isNotNull();
    assertThat(v.next("handoff.queued", seen).getString("conversation_id")).isEqualTo(conv);
    ann.next("queue", e -> true);
    JsonObject inbox = ann.ok(ann.page("/console/api/inbox"));
    assertThat(inbox.getJsonArray("queue").stream().map(o -> ((JsonObject) o).getString("conversation_id"))).contains(conv);
    assertThat(inbox.getJsonObject("settings").getString("assignment")).isEqualTo("pick");

    ann.ok(ann.post("/console/api/inbox/" + conv + "/claim", new JsonObject()));
    assertThat(v.next("handoff.assigned", seen).getJsonObject("agent").getString("name")).isEqualTo("Ann");
    ann.next("assigned", e -> conv.equals(e.getString("conversation_id")));

    // the bot is silent: the visitor's message is stored for the staff, no answer starts
    v.send(new JsonObject().put("type", "message").put("text", "are you a person?").put("conversationId", conv)
        .put("clientMessageId", "m-1"));
    JsonObject stored = v.next("visitor.stored", seen);
    assertThat(ann.next("message", e -> "visitor".equals(e.getString("role"))).getString("id")).isEqualTo(stored.getString("id"));

    JsonObject reply = ann.ok(ann.post("/console/api/inbox/" + conv + "/reply",
        new JsonObject().put("text", "Yes, I am Ann.").put("client_id", "r-1")));
    JsonObject delivered = v.next("agent.message", seen);
    assertThat(delivered.getString("id")).isEqualTo(reply.getString("id"));
    assertThat(delivered.getString("text")).isEqualTo("Yes, I am Ann.");
    // a retry of the same client id is the same message, stored once
    JsonObject retry = ann.ok(ann.post("/console/api/inbox/" + conv + "/reply",
        new JsonObject().put("text", "Yes, I am Ann.").put("client_id", "r-1")));
    assertThat(retry.getString("id")).isEqualTo(reply.getString("id"));
    assertThat(retry.getBoolean("duplicate")).isTrue();
    assertThat(count(a, "SELECT count(*) FROM handoff_messages WHERE client_id = 'r-1'")).isEqualTo(1);

    ann.ok(ann.post("/console/api/inbox/" + conv + "/note",
        new JsonObject().put("text", "internal: VIP customer").put("client_id", "n-1")));
    ann.next("message", e -> "note".equals(e.getString("role")));

    ann.ok(ann.post("/console/api/inbox/" + conv + "/typing", new JsonObject().put("typing", true)));
    assertThat(v.next("agent.typing", seen).getBoolean("typing")).isTrue();
    v.send(new JsonObject().put("type", "visitor.typing").put("conversation_id", conv).put("typing", true));
    assertThat(ann.next("typing", e -> conv.equals(e.getString("conversation_id"))).getString("who")).isEqualTo("visitor");

    JsonObject history = ann.ok(ann.page("/console/api/inbox/" + conv));
    assertThat(history.getJsonArray("messages").stream().map(o -> ((JsonObject) o).getString("role")))
        .containsExactly("visitor", "assistant", "visitor", "agent", "note");

    ann.ok(ann.post("/console/api/inbox/" + conv + "/resolve", new JsonObject().put("mode", "bot")));
    JsonObject resolved = v.next("handoff.resolved", seen);
    assertThat(resolved.getString("mode")).isEqualTo("bot");
    assertThat(resolved.getBoolean("rate")).isTrue();
    ann.next("resolved", e -> conv.equals(e.getString("conversation_id")));

    // the note never reached the visitor: not as a frame, not in the widget's history
    assertThat(seen.toString()).doesNotContain("internal: VIP");
    String widgetHistory = v.get("/widget/history?conversationId=" + conv).body();
    assertThat(widgetHistory).contains("Yes, I am Ann.").doesNotContain("internal: VIP");

    JsonArray actions = new JsonArray();
    await(h.db.inTenant(a.id(), c -> c.preparedQuery("SELECT action FROM audit_log WHERE target = $1 ORDER BY id")
        .execute(Tuple.of("conversation:" + conv)))).forEach(r -> actions.add(r.getString(0)));
    assertThat(actions.getList()).containsSubsequence("handoff.claimed", "handoff.replied", "handoff.note", "handoff.resolved");
  }

  @Test
  void reloadedWidgetSeesItsHandoffAndAgentsByDisplayName() throws Exception {
    HandoffHarness.Tenant t = h.tenant("hand-reload");
    HandoffHarness.Visitor v = h.visitor(t).connect();
    String conv = v.conversation.toString();
    List<JsonObject> seen = new ArrayList<>();
    assertThat(widgetHandoff(v).getString("state")).isEqualTo("bot");
    v.post("/widget/handoff", new JsonObject().put("conversation_id", conv));
    JsonObject queued = widgetHandoff(v);
    assertThat(queued.getString("state")).isEqualTo("queued");
    assertThat(queued.getInteger("position")).isEqualTo(1);
    assertThat(queued.getLong("expected_wait_s")).isNotNull();

    HandoffHarness.Staff ann = h.new Staff(t, "ann@hand-reload.test");
    ann.ok(ann.post("/console/api/inbox/" + conv + "/claim", new JsonObject()));
    JsonObject assigned = widgetHandoff(v);
    assertThat(assigned.getString("state")).isEqualTo("assigned");
    assertThat(assigned.getJsonObject("agent").getString("name")).isEqualTo("Ann");

    ann.ok(ann.post("/console/api/inbox/" + conv + "/reply", new JsonObject().put("text", "Ann here.").put("client_id", "n-1")));
    JsonObject frame = v.next("agent.message", seen);
    assertThat(frame.getJsonObject("agent").getString("name")).isEqualTo("Ann");
    // a retried reply names its author too
    ann.ok(ann.post("/console/api/inbox/" + conv + "/reply", new JsonObject().put("text", "Ann here.").put("client_id", "n-1")));
    assertThat(v.next("agent.message", seen).getJsonObject("agent").getString("name")).isEqualTo("Ann");
    JsonObject history = new JsonObject(v.get("/widget/history?conversationId=" + conv).body());
    JsonObject agentRow = history.getJsonArray("messages").stream().map(o -> (JsonObject) o)
        .filter(m -> "agent".equals(m.getString("role"))).findFirst().orElseThrow();
    assertThat(agentRow.getJsonObject("agent").getString("name")).isEqualTo("Ann");
    assertThat(seen.toString() + history.encode()).as("the visitor never sees an e-mail address").doesNotContain("@hand-reload");
  }

  @Test
  void personButtonBeforeAnyMessageCreatesTheConversation() throws Exception {
    HandoffHarness.Tenant t = h.tenant("hand-fresh");
    HandoffHarness.Visitor v = h.visitor(t).connect();
    List<JsonObject> seen = new ArrayList<>();
    HttpResponse<String> first = v.post("/widget/handoff", new JsonObject());
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    JsonObject queued = new JsonObject(first.body());
    assertThat(queued.getString("state")).isEqualTo("queued");
    String conv = queued.getString("conversation_id");
    assertThat(conv).isNotNull().isNotEqualTo(v.conversation.toString());
    assertThat(v.next("handoff.queued", seen).getString("conversation_id")).isEqualTo(conv);
    // the visitor's own widget conversation, in the staff's queue
    assertThat(count(t, "SELECT count(*) FROM conversations WHERE id = '" + conv + "' AND channel = 'widget' "
        + "AND visitor_id = '" + v.id + "'")).isEqualTo(1);
    HandoffHarness.Staff ann = h.new Staff(t, "ann@hand-fresh.test");
    assertThat(ann.ok(ann.page("/console/api/inbox")).getJsonArray("queue").encode()).contains(conv);
    // clicking again (or with an explicit null) creates nothing new: the same place in the queue
    JsonObject again = new JsonObject(v.post("/widget/handoff", new JsonObject().putNull("conversation_id")).body());
    assertThat(again.getString("conversation_id")).isEqualTo(conv);
    assertThat(again.getString("state")).isEqualTo("queued");
    assertThat(count(t, "SELECT count(*) FROM conversations WHERE visitor_id = '" + v.id + "'")).isEqualTo(2);
    assertThat(new JsonObject(v.post("/widget/handoff", new JsonObject().put("conversation_id", 7)).body())
        .getJsonObject("error").getString("code")).isEqualTo("invalid_conversation_id");
  }

  private static JsonObject widgetHandoff(HandoffHarness.Visitor v) throws Exception {
    HttpResponse<String> r = v.get("/widget/history?conversationId=" + v.conversation);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonObject("handoff");
  }

  @Test
  void onlyInboxStaffOfTheTenant() throws Exception {
    HandoffHarness.Visitor v = h.visitor(a);
    v.post("/widget/handoff", new JsonObject().put("conversation_id", v.conversation.toString()));
    HandoffHarness.Staff viewer = h.new Staff(a, "viewer@hand-alpha.test");
    HttpResponse<String> refused = viewer.page("/console/api/inbox");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).isEqualTo("not_inbox_staff");

    HandoffHarness.Staff ann = h.new Staff(a, "ann@hand-alpha.test");
    assertThat(ann.page("/console/").headers().firstValue("Location")).contains("/console/inbox");
    assertThat(ann.page("/console/users").statusCode()).isEqualTo(302);
    assertThat(ann.post("/console/api/inbox/settings", new JsonObject().put("cap", 9)).statusCode()).isEqualTo(403);

    // another tenant's agent: the conversation does not exist for it
    HandoffHarness.Staff otherAnn = h.new Staff(b, "ann@hand-beta.test");
    HttpResponse<String> foreign = otherAnn.post("/console/api/inbox/" + v.conversation + "/claim", new JsonObject());
    assertThat(foreign.statusCode()).isEqualTo(404);
    assertThat(otherAnn.page("/console/api/inbox/" + v.conversation).statusCode()).isEqualTo(404);
    assertThat(otherAnn.ok(otherAnn.page("/console/api/inbox")).getJsonArray("queue")).isEmpty();
  }

  @Test
  void transferCannedRepliesAndWhoMayDoWhat() throws Exception {
    HandoffHarness.Visitor v = h.visitor(a).connect();
    String path = "/console/api/inbox/" + v.conversation;
    List<JsonObject> seen = new ArrayList<>();
    v.post("/widget/handoff", new JsonObject().put("conversation_id", v.conversation.toString()));
    HandoffHarness.Staff ann = h.new Staff(a, "ann@hand-alpha.test").listen();
    HandoffHarness.Staff bob = h.new Staff(a, "bob@hand-alpha.test");
    ann.ok(ann.post(path + "/claim", new JsonObject()));
    assertThat(bob.post(path + "/claim", new JsonObject()).statusCode()).isEqualTo(409);
    assertThat(bob.post(path + "/reply", new JsonObject().put("text", "hi").put("client_id", "x-1")).statusCode())
        .isEqualTo(409);
    assertThat(bob.post(path + "/resolve", new JsonObject().put("mode", "bot")).statusCode()).isEqualTo(403);
    assertThat(ann.post(path + "/resolve", new JsonObject().put("mode", "later")).statusCode()).isEqualTo(400);

    // an admin hands it to Bob once Bob's inbox is open; the visitor sees the new name
    HandoffHarness.Staff admin = h.new Staff(a, "admin@hand-alpha.test");
    HttpResponse<String> away = admin.post(path + "/transfer",
        new JsonObject().put("agent_id", h.userId(a, "bob@hand-alpha.test").toString()));
    assertThat(away.statusCode()).as(away.body()).isEqualTo(409);
    bob.listen();
    Thread.sleep(300); // the stream's first heartbeat
    admin.ok(admin.post(path + "/transfer", new JsonObject().put("agent_id", h.userId(a, "bob@hand-alpha.test").toString())));
    assertThat(v.next("handoff.assigned", seen).getJsonObject("agent").getString("name")).isIn("Ann", "Bob");
    assertThat(v.next("handoff.assigned", seen).getJsonObject("agent").getString("name")).isEqualTo("Bob");
    assertThat(ann.post(path + "/reply", new JsonObject().put("text", "still me").put("client_id", "x-2")).statusCode())
        .isEqualTo(409);
    assertThat(admin.post(path + "/transfer", new JsonObject().put("agent_id", h.userId(a, "viewer@hand-alpha.test")
        .toString())).statusCode()).as("a viewer is not staff of the inbox").isEqualTo(404);

    JsonObject canned = bob.ok(bob.post("/console/api/inbox/canned",
        new JsonObject().put("title", "greeting-" + UUID.randomUUID()).put("text", "Hello, how can I help?")));
    assertThat(bob.ok(bob.page("/console/api/inbox/canned")).encode()).contains(canned.getString("id"));
    assertThat(bob.post("/console/api/inbox/canned", new JsonObject().put("title", canned.getString("title"))
        .put("text", "again")).statusCode()).isEqualTo(409);
    HttpResponse<String> foreignDelete = h.new Staff(b, "owner@hand-beta.test").delete("/console/api/inbox/canned/"
        + canned.getString("id"));
    assertThat(foreignDelete.statusCode()).isEqualTo(404);
    assertThat(ann.delete("/console/api/inbox/canned/" + canned.getString("id")).statusCode())
        .as("only its author, an admin or an owner").isEqualTo(404);
    assertThat(bob.delete("/console/api/inbox/canned/" + canned.getString("id")).statusCode()).isEqualTo(200);
    bob.ok(bob.post(path + "/resolve", new JsonObject().put("mode", "closed")));
    assertThat(v.next("handoff.resolved", seen).getString("mode")).isEqualTo("closed");
  }

  @Test
  void inboxStreamsArePerPersonCapped() throws Exception {
    HandoffHarness.Staff bob = h.new Staff(b, "bob@hand-beta.test");
    for (int i = 0; i < ai.deepchat.handoff.StaffStreams.MAX_PER_USER; i++) {
      bob.listen();
    }
    HttpResponse<String> refused = bob.page("/console/api/inbox/events");
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).isEqualTo("too_many_streams");
    // another person of the tenant is not affected
    h.new Staff(b, "ann@hand-beta.test").listen();
  }

  @Test
  void outsideBusinessHoursTicket() throws Exception {
    HandoffHarness.Tenant closed = h.tenant("hand-closed");
    HandoffHarness.Staff owner = h.new Staff(closed, "owner@hand-closed.test");
    owner.ok(owner.post("/console/api/inbox/settings", new JsonObject().put("time_zone", "Asia/Shanghai")
        .put("business_hours", new JsonObject())));
    HandoffHarness.Visitor v = h.visitor(closed);
    JsonObject offline = new JsonObject(v.post("/widget/handoff",
        new JsonObject().put("conversation_id", v.conversation.toString())).body());
    assertThat(offline.getString("state")).isEqualTo("offline");
    assertThat(offline.getBoolean("ticket")).isTrue();
    HttpResponse<String> bad = v.post("/widget/tickets", new JsonObject().put("conversation_id", v.conversation.toString())
        .put("message", "call me").put("email", "not-an-address"));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getJsonObject("error").getString("code")).isEqualTo("invalid_email");
    HttpResponse<String> ticket = v.post("/widget/tickets", new JsonObject().put("conversation_id", v.conversation.toString())
        .put("message", "Please call me back").put("name", "Li").put("phone", "+86 138 0000 0000"));
    assertThat(ticket.statusCode()).isEqualTo(201);
    String id = new JsonObject(ticket.body()).getString("id");
    assertThat(owner.ok(owner.page("/console/api/inbox/tickets")).getJsonArray("tickets").encode()).contains(id);
  }

  @Test
  void roundRobinRespectsCapAndRequeuesSilentAgents() throws Exception {
    HandoffHarness.Tenant t = h.tenant("hand-rr");
    HandoffHarness.Staff owner = h.new Staff(t, "owner@hand-rr.test");
    owner.ok(owner.post("/console/api/inbox/settings", new JsonObject().put("assignment", "round_robin").put("cap", 1)));
    HandoffHarness.Staff bob = h.new Staff(t, "bob@hand-rr.test");
    bob.ok(bob.post("/console/api/inbox/presence", new JsonObject().put("presence", "online")));
    HandoffHarness.Visitor first = h.visitor(t).connect();
    HandoffHarness.Visitor second = h.visitor(t).connect();
    List<JsonObject> seen = new ArrayList<>();
    JsonObject assigned = new JsonObject(first.post("/widget/handoff",
        new JsonObject().put("conversation_id", first.conversation.toString())).body());
    assertThat(assigned.getString("state")).isEqualTo("assigned");
    assertThat(assigned.getJsonObject("agent").getString("name")).isEqualTo("Bob");
    JsonObject waiting = new JsonObject(second.post("/widget/handoff",
        new JsonObject().put("conversation_id", second.conversation.toString())).body());
    assertThat(waiting.getString("state")).isEqualTo("queued"); // Bob is at his cap of 1
    // Bob holds no inbox stream: after the 3 s timeout his conversation goes back to the queue
    first.next("handoff.queued", seen);
    assertThat(count(t, "SELECT count(*) FROM handoffs WHERE state = 'assigned'")).isZero();
  }

  @Test
  void theBotGivingUpTwiceInARowEscalates() throws Exception {
    HandoffHarness.Visitor v = h.visitor(a);
    String conv = v.conversation.toString();
    // the harness's bot turn answered ("I do not know", no intent); now one "don't know" answer
    unconfidentAnswer(v, "asked for a person earlier", 1);
    unconfidentAnswer(v, "I'm sorry, I don't know.", 0.42f);
    await(h.handoffs.afterHandoffAnswer(a.id(), v.id, v.conversation, 0.42));
    assertThat(count(a, "SELECT count(*) FROM handoffs WHERE conversation_id = '" + conv + "'"))
        .as("one unconfident answer, and a person request that does not count as one").isZero();
    unconfidentAnswer(v, "I'm sorry, I still don't know.", 0.38f);
    await(h.handoffs.afterHandoffAnswer(a.id(), v.id, v.conversation, 0.38));
    assertThat(count(a, "SELECT count(*) FROM handoffs WHERE reason = 'unconfident' AND conversation_id = '" + conv + "'"))
        .isEqualTo(1);
  }

  private void unconfidentAnswer(HandoffHarness.Visitor v, String text, float score) throws Exception {
    await(h.db.inTenant(a.id(), c -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, "
        + "intent, intent_score, created_at) VALUES ($1, $2, 'assistant', $3, 'handoff', $4, clock_timestamp())")
        .execute(Tuple.of(a.id(), v.conversation, text, score))));
  }

  private long count(HandoffHarness.Tenant t, String sql) throws Exception {
    return await(h.db.inTenant(t.id(), c -> c.query(sql).execute().map(rows -> rows.iterator().next().getLong(0))));
  }
}
