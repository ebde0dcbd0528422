package ai.deepchat.chat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #18 items 4-6 over real HTTP and PostgreSQL: visitors' ratings of resolved conversations and
 * comments on single answers, the conversation export (filters, CSV injection, tenant scope, audit,
 * streaming from a cursor) and the erasure of a visitor's ratings and comments.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RatingsExportIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant a;
  private ChatHarness.Tenant b;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start();
    a = h.tenant("csat-alpha");
    b = h.tenant("csat-beta");
  }

  /** A new visitor of {@code t}: {visitorToken, visitorId}. */
  private JsonObject visitor(ChatHarness.Tenant t) {
    HttpResponse<String> resp = h.send(h.request("/widget/session").header("Content-Type", "application/json")
        .header("Origin", t.origin()).POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", t.widgetKey()).encode())));
    assertThat(resp.statusCode()).isEqualTo(200);
    return new JsonObject(resp.body());
  }

  /** A widget conversation of the visitor with a question and an answer; returns {conversation, answer}. */
  private String[] conversation(ChatHarness.Tenant t, String visitorId, String question, String intent) {
    String conv = h.string("INSERT INTO conversations (tenant_id, visitor_id, channel, title) VALUES ('" + t.id()
        + "', '" + visitorId + "', 'widget', 'rated') RETURNING id");
    h.execOwner("INSERT INTO messages (tenant_id, conversation_id, role, content, created_at) VALUES ('" + t.id()
        + "', '" + conv + "', 'user', '" + question.replace("'", "''") + "', now() - interval '20 minutes')");
    String answer = h.string("INSERT INTO messages (tenant_id, conversation_id, role, content, intent, citations, created_at) "
        + "VALUES ('" + t.id() + "', '" + conv + "', 'assistant', 'An answer', '" + intent + "', "
        + "'[{\"n\": 1, \"title\": \"Guide\", \"section\": \"Returns\", \"documentId\": \"d1\"}]', "
        + "now() - interval '19 minutes') RETURNING id");
    return new String[] {conv, answer};
  }

  /** Staff resolved a handoff of the conversation (the state V26 stores when an agent resolves it); its id. */
  private String resolved(ChatHarness.Tenant t, String conversation, String agentId) {
    return h.string("INSERT INTO handoffs (tenant_id, conversation_id, state, reason, agent_id, resolution, queued_at, "
        + "assigned_at, first_reply_at, resolved_at) VALUES ('" + t.id() + "', '" + conversation + "', 'resolved', 'button', "
        + (agentId == null ? "NULL" : "'" + agentId + "'") + ", 'bot', now() - interval '10 minutes', "
        + "now() - interval '9 minutes', now() - interval '8 minutes', now() - interval '1 minute') RETURNING id");
  }

  private HttpResponse<String> post(String path, String token, JsonObject body) {
    return h.send(h.request(path).header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())));
  }

  private HttpResponse<String> export(ChatHarness.Tenant t, String query) {
    return h.send(h.request("/v1/conversations/export" + query).header("Authorization", "Bearer " + t.apiKey()));
  }

  @Test
  void aVisitorRatesItsOwnConversationOncePerResolution() {
    JsonObject v = visitor(a);
    String token = v.getString("visitorToken");
    String conv = conversation(a, v.getString("visitorId"), "Where is my parcel?", "knowledge")[0];
    // nothing to rate before staff resolved the conversation
    HttpResponse<String> early = post("/widget/rating", token, new JsonObject().put("conversation_id", conv).put("score", 5));
    assertThat(early.statusCode()).isEqualTo(409);
    assertThat(new JsonObject(early.body()).getJsonObject("error").getString("code")).isEqualTo("not_resolved");
    String firstResolution = resolved(a, conv, null);

    HttpResponse<String> ok = post("/widget/rating", token, new JsonObject().put("conversation_id", conv).put("score", 4)
        .put("comment", "  Quick and kind.  "));
    assertThat(ok.statusCode()).isEqualTo(201);
    String id = new JsonObject(ok.body()).getString("id");
    assertThat(h.string("SELECT score || '|' || comment || '|' || tenant_id || '|' || handoff_id FROM conversation_ratings "
        + "WHERE id = '" + id + "'")).isEqualTo("4|Quick and kind.|" + a.id() + "|" + firstResolution);
    // the same resolution again: refused, the first rating kept
    HttpResponse<String> again = post("/widget/rating", token, new JsonObject().put("conversation_id", conv).put("score", 1));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(new JsonObject(again.body()).getJsonObject("error").getString("code")).isEqualTo("already_rated");

    // bad input: a clear JSON error, nothing stored
    for (JsonObject bad : List.of(new JsonObject().put("conversation_id", conv).put("score", 0),
        new JsonObject().put("conversation_id", conv).put("score", 6),
        new JsonObject().put("conversation_id", conv).put("score", "5"),
        new JsonObject().put("conversation_id", conv).put("score", 4.5),
        new JsonObject().put("conversation_id", "nope").put("score", 3),
        new JsonObject().put("conversation_id", conv).put("score", 3).put("comment", 7),
        new JsonObject().put("conversation_id", conv).put("score", 3).put("comment", "x".repeat(2001)))) {
      HttpResponse<String> refused = post("/widget/rating", token, bad);
      assertThat(refused.statusCode()).as(bad.encode()).isEqualTo(400);
      assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).startsWith("invalid_");
    }
    assertThat(h.send(h.request("/widget/rating").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("conversation_id", conv).put("score", 5).encode())))
        .statusCode()).isEqualTo(401);

    // another visitor of the same workspace, and a visitor of another workspace: not found, nothing stored
    for (ChatHarness.Tenant other : List.of(a, b)) {
      String stranger = visitor(other).getString("visitorToken");
      HttpResponse<String> foreign = post("/widget/rating", stranger, new JsonObject().put("conversation_id", conv).put("score", 1));
      assertThat(foreign.statusCode()).isEqualTo(404);
    }
    assertThat(h.count("SELECT count(*) FROM conversation_ratings WHERE conversation_id = '" + conv + "'")).isEqualTo(1);

    // the visitor asks for a person again; that resolution gets its own rating
    String secondResolution = resolved(a, conv, null);
    assertThat(post("/widget/rating", token, new JsonObject().put("conversation_id", conv).put("score", 2)).statusCode())
        .isEqualTo(201);
    assertThat(h.string("SELECT score FROM conversation_ratings WHERE handoff_id = '" + secondResolution + "'")).isEqualTo("2");
    assertThat(post("/widget/rating", token, new JsonObject().put("conversation_id", conv).put("score", 3)).statusCode())
        .isEqualTo(409);
  }

  @Test
  void feedbackOnAnAnswerCarriesAFreeTextComment() {
    JsonObject v = visitor(a);
    String token = v.getString("visitorToken");
    String answer = conversation(a, v.getString("visitorId"), "Opening hours?", "faq")[1];
    assertThat(post("/widget/feedback", token, new JsonObject().put("messageId", answer).put("value", -1)
        .put("comment", "It gave the winter hours.")).statusCode()).isEqualTo(204);
    assertThat(h.string("SELECT feedback || '|' || feedback_comment FROM messages WHERE id = '" + answer + "'"))
        .isEqualTo("-1|It gave the winter hours.");
    // a changed thumb without a comment keeps the comment
    assertThat(post("/widget/feedback", token, new JsonObject().put("messageId", answer).put("value", 1)).statusCode())
        .isEqualTo(204);
    assertThat(h.string("SELECT feedback || '|' || feedback_comment FROM messages WHERE id = '" + answer + "'"))
        .isEqualTo("1|It gave the winter hours.");
    assertThat(post("/widget/feedback", token, new JsonObject().put("messageId", answer).put("value", 1)
        .put("comment", "y".repeat(2001))).statusCode()).isEqualTo(400);
    String stranger = visitor(b).getString("visitorToken");
    assertThat(post("/widget/feedback", stranger, new JsonObject().put("messageId", answer).put("value", -1)
        .put("comment", "sneaky")).statusCode()).isEqualTo(404);
    assertThat(h.count("SELECT count(*) FROM messages WHERE feedback_comment = 'sneaky'")).isZero();
  }

  @Test
  void theExportFiltersEscapesFormulasStaysInItsWorkspaceAndIsAudited() throws Exception {
    ChatHarness.Tenant t = h.tenant("csat-export");
    JsonObject v = visitor(t);
    String[] low = conversation(t, v.getString("visitorId"), "=HYPERLINK(\"http://evil.example\",\"x\")", "handoff");
    String[] high = conversation(t, v.getString("visitorId"), "How do returns work?", "knowledge");
    String agent = h.string("INSERT INTO users (tenant_id, email, password_hash, role) VALUES ('" + t.id()
        + "', 'agent@csat.test', 'h', 'agent') RETURNING id");
    String lowHandoff = resolved(t, low[0], agent);
    String highHandoff = resolved(t, high[0], null);
    h.execOwner("INSERT INTO conversation_ratings (tenant_id, conversation_id, handoff_id, score, comment) VALUES ('" + t.id()
        + "', '" + low[0] + "', '" + lowHandoff + "', 1, '@SUM(A1)'), ('" + t.id() + "', '" + high[0] + "', '" + highHandoff
        + "', 5, 'great')");
    // the agent's reply and internal note in the low-rated conversation
    h.execOwner("INSERT INTO handoff_messages (tenant_id, conversation_id, kind, author_id, text, client_id, created_at) VALUES ('"
        + t.id() + "', '" + low[0] + "', 'agent', '" + agent + "', '-1 is not a valid quantity', 'c1', now() - interval '8 minutes'), ('"
        + t.id() + "', '" + low[0] + "', 'note', '" + agent + "', 'angry customer', 'c2', now() - interval '7 minutes')");
    h.execOwner("UPDATE messages SET feedback = -1, feedback_comment = '+cmd' WHERE id = '" + low[1] + "'");
    // another workspace's conversation never appears
    JsonObject other = visitor(b);
    conversation(b, other.getString("visitorId"), "secret of beta", "knowledge");

    HttpResponse<String> csv = export(t, "?format=csv");
    assertThat(csv.statusCode()).isEqualTo(200);
    assertThat(csv.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("text/csv"));
    assertThat(csv.headers().firstValue("Content-Disposition")).hasValueSatisfying(d -> assertThat(d).contains("conversations.csv"));
    assertThat(csv.body()).doesNotContain("secret of beta");
    List<CSVRecord> rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
        .parse(new StringReader(csv.body().substring(1))).getRecords();
    // 2 messages each, 3 handoff steps each, and the agent's reply and note
    assertThat(rows).hasSize(12);
    CSVRecord question = rows.stream().filter(r -> r.get("message_id").isEmpty() || r.get("role").equals("user"))
        .filter(r -> r.get("conversation_id").equals(low[0])).findFirst().orElseThrow();
    assertThat(question.get("content")).isEqualTo("'=HYPERLINK(\"http://evil.example\",\"x\")");
    assertThat(question.get("rating")).isEqualTo("1");
    assertThat(question.get("rating_comment")).isEqualTo("'@SUM(A1)");
    CSVRecord answer = rows.stream().filter(r -> r.get("message_id").equals(low[1])).findFirst().orElseThrow();
    assertThat(answer.get("feedback")).isEqualTo("-1");
    assertThat(answer.get("feedback_comment")).isEqualTo("'+cmd");
    assertThat(answer.get("intent")).isEqualTo("handoff");
    assertThat(new JsonArray(answer.get("citations")).getJsonObject(0).getString("title")).isEqualTo("Guide");
    // staff's actions, in time order after the answer: queued, assigned to the agent, its reply and note, resolved
    List<String> low0 = rows.stream().filter(r -> r.get("conversation_id").equals(low[0]))
        .map(r -> r.get("role") + ":" + r.get("status") + ":" + r.get("content") + ":" + r.get("agent")).toList();
    assertThat(low0).containsExactly("user:complete:'=HYPERLINK(\"http://evil.example\",\"x\"):",
        "assistant:complete:An answer:", "handoff:queued:button:", "handoff:assigned::agent@csat.test",
        "agent:complete:'-1 is not a valid quantity:agent@csat.test", "note:complete:angry customer:agent@csat.test",
        "handoff:resolved:bot:agent@csat.test");

    // JSON Lines: one conversation per line, messages and ratings nested, filtered by rating and intent
    HttpResponse<String> jsonl = export(t, "?format=jsonl&rating=4,5");
    assertThat(jsonl.statusCode()).isEqualTo(200);
    List<String> lines = jsonl.body().lines().toList();
    assertThat(lines).hasSize(1);
    JsonObject conv = new JsonObject(lines.get(0));
    assertThat(conv.getString("id")).isEqualTo(high[0]);
    assertThat(conv.getJsonArray("messages")).hasSize(5); // question, answer, queued, assigned, resolved
    assertThat(conv.getJsonArray("ratings").getJsonObject(0).getInteger("score")).isEqualTo(5);
    assertThat(export(t, "?format=jsonl&intent=handoff").body().lines().map(l -> new JsonObject(l).getString("id")))
        .containsExactly(low[0]);
    assertThat(export(t, "?format=jsonl&channel=api").body()).isEmpty();
    assertThat(export(t, "?format=jsonl&agent=AGENT@csat.test").body().lines().map(l -> new JsonObject(l).getString("id")))
        .containsExactly(low[0]);
    assertThat(export(t, "?format=jsonl&from=2000-01-01&to=2000-01-31").body()).isEmpty();
    assertThat(export(t, "?format=jsonl&from=2000-01-01").body().lines()).hasSize(2);

    // bad filters: 400 naming the parameter, before anything is read
    for (String bad : List.of("?format=xlsx", "?rating=6", "?from=yesterday", "?intent=DROP%20TABLE", "?agent=x",
        "?from=2026-02-01&to=2026-01-01")) {
      HttpResponse<String> refused = export(t, bad);
      assertThat(refused.statusCode()).as(bad).isEqualTo(400);
      assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).as(bad).startsWith("invalid_");
    }
    assertThat(h.send(h.request("/v1/conversations/export")).statusCode()).isEqualTo(401);
    // every export that ran is on record, with its filter
    assertThat(h.count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + t.id()
        + "' AND action = 'conversations.export'")).isEqualTo(7);
    assertThat(h.string("SELECT details::text FROM audit_log WHERE tenant_id = '" + t.id()
        + "' AND action = 'conversations.export' AND details->>'intent' = 'handoff'")).contains("jsonl");
  }

  /**
   * 20,000 messages of ~1 KB: clients that read the first bytes and then stop reading hold their exports
   * back, so the node has read only what the socket buffers took, never the whole table; and while
   * {@code MAX_RUNNING} such exports hold database connections, another is refused with 429.
   */
  @Test
  void theExportIsStreamedFromACursorAtTheClientsPace() throws Exception {
    ChatHarness.Tenant t = h.tenant("csat-stream");
    int conversations = 200;
    int perConversation = 100;
    h.execOwner("INSERT INTO conversations (tenant_id, visitor_id, channel, created_at) SELECT '" + t.id()
        + "', 'v_' || g, 'widget', now() - g * interval '1 minute' FROM generate_series(1, " + conversations + ") g");
    h.execOwner("INSERT INTO messages (tenant_id, conversation_id, role, content, created_at) SELECT '" + t.id()
        + "', cv.id, CASE WHEN g % 2 = 0 THEN 'assistant' ELSE 'user' END, g || repeat('x', 1000), "
        + "cv.created_at + g * interval '1 ms' FROM conversations cv, generate_series(1, " + perConversation + ") g "
        + "WHERE cv.tenant_id = '" + t.id() + "'");
    int total = conversations * perConversation;

    long before = h.export.rowsRead();
    List<Socket> stalled = new java.util.ArrayList<>();
    try {
      // two clients that read the first bytes and then stop reading: the node holds both exports back
      for (int i = 0; i < 2; i++) {
        Socket socket = stalledExport(t);
        stalled.add(socket);
      }
      long seen = -1;
      for (int i = 0; i < 40 && h.export.rowsRead() - before != seen; i++) {
        seen = h.export.rowsRead() - before;
        Thread.sleep(250); // poll until the reading stalls (the last state is what is asserted)
      }
      assertThat(seen).as("rows read while both clients stopped reading").isGreaterThan(0).isLessThan(total);
      // a third export while two hold their connections: refused before anything is read or audited
      long audited = h.count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + t.id() + "'");
      HttpResponse<String> busy = export(t, "?format=csv");
      assertThat(busy.statusCode()).isEqualTo(429);
      assertThat(busy.headers().firstValue("Retry-After")).isPresent();
      assertThat(new JsonObject(busy.body()).getJsonObject("error").getString("code")).isEqualTo("too_many_exports");
      assertThat(h.count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + t.id() + "'")).isEqualTo(audited);
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
    // the clients left: their exports end, and the whole export, read at full pace, has every row
    HttpResponse<String> all = export(t, "?format=csv");
    for (int i = 0; i < 40 && all.statusCode() == 429; i++) {
      Thread.sleep(250); // the stalled exports notice the closed sockets on their next write
      all = export(t, "?format=csv");
    }
    assertThat(all.statusCode()).isEqualTo(200);
    assertThat(all.body().lines().count()).isEqualTo(total + 1);
  }

  /** An export request whose client reads its first 32 KiB and then stops reading (the socket stays open). */
  private Socket stalledExport(ChatHarness.Tenant t) throws Exception {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(8 * 1024);
    socket.connect(new InetSocketAddress("127.0.0.1", h.port), 5000);
    OutputStream out = socket.getOutputStream();
    out.write(("GET /v1/conversations/export?format=csv HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + t.apiKey() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    byte[] first = in.readNBytes(32 * 1024);
    assertThat(new String(first, StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200").contains("conversation_id");
    return socket;
  }

  @Test
  void erasingAVisitorErasesItsRatingsAndFeedbackComments() {
    JsonObject v = visitor(a);
    String token = v.getString("visitorToken");
    String visitorId = v.getString("visitorId");
    String[] conv = conversation(a, visitorId, "Please delete me", "chat");
    resolved(a, conv[0], null);
    assertThat(post("/widget/rating", token, new JsonObject().put("conversation_id", conv[0]).put("score", 2)
        .put("comment", "my words")).statusCode()).isEqualTo(201);
    assertThat(post("/widget/feedback", token, new JsonObject().put("messageId", conv[1]).put("value", -1)
        .put("comment", "my other words")).statusCode()).isEqualTo(204);
    // another visitor's rating stays
    JsonObject keep = visitor(a);
    String kept = conversation(a, keep.getString("visitorId"), "Keep me", "chat")[0];
    resolved(a, kept, null);
    assertThat(post("/widget/rating", keep.getString("visitorToken"), new JsonObject().put("conversation_id", kept)
        .put("score", 5)).statusCode()).isEqualTo(201);

    HttpResponse<String> erased = h.send(h.request("/v1/visitors/" + visitorId).header("Authorization", "Bearer " + a.apiKey())
        .DELETE());
    assertThat(erased.statusCode()).isEqualTo(200);
    assertThat(h.count("SELECT count(*) FROM conversation_ratings WHERE comment = 'my words'")).isZero();
    assertThat(h.count("SELECT count(*) FROM messages WHERE feedback_comment = 'my other words'")).isZero();
    assertThat(h.count("SELECT count(*) FROM conversation_ratings WHERE conversation_id = '" + kept + "'")).isEqualTo(1);
    assertThat(export(a, "?format=jsonl").body()).doesNotContain("my words").doesNotContain(visitorId);
  }
}
