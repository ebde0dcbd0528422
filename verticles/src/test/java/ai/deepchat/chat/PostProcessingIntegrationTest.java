package ai.deepchat.chat;

import ai.deepchat.platform.testing.WebSockets;
import ai.deepchat.policy.plugin.footer.AnswerFooterPlugin;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Post hooks on the chat API and the widget, over real HTTP and PostgreSQL with the real engine on the
 * bundled tiny model: a footer after the answer (its own delta when streaming), a rewriting plugin that
 * holds the stream back, misbehaving hooks, and the word list over plugin text. Every stored answer
 * must equal what the client got.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostProcessingIntegrationTest {

  static final String FOOTER = "Need more help? Call 400-800-1234 or see [our help centre](https://help.example.com).";

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start(false).withEngine();
  }

  /** A reply as the client saw it: the content deltas in order (one element when not streamed). */
  record Reply(List<String> deltas, String conversationId, int completionTokens, String finishReason) {
    String content() {
      return String.join("", deltas);
    }
  }

  /** The raw SSE text of the last {@link #streamed} answer. */
  private String lastStreamBody;

  private ChatHarness.Tenant tenantWith(String slug, String plugin, JsonObject config) throws Exception {
    ChatHarness.Tenant t = h.tenant(slug);
    h.execOwner("INSERT INTO plugin_configs (tenant_id, plugin, enabled, config) VALUES ('" + t.id() + "', '"
        + plugin + "', true, '" + config.encode().replace("'", "''") + "')");
    return t;
  }

  /** Greedy and short: the same question gives the same answer, quickly. */
  private static JsonObject ask(String text, boolean stream) {
    return new JsonObject().put("max_tokens", 8).put("temperature", 0).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", text)));
  }

  private Reply whole(ChatHarness.Tenant t, String question) {
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), ask(question, false).encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    JsonObject body = new JsonObject(resp.body());
    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
    return new Reply(List.of(choice.getJsonObject("message").getString("content")), body.getString("conversation_id"),
        body.getJsonObject("usage").getInteger("completion_tokens"), choice.getString("finish_reason"));
  }

  private Reply streamed(ChatHarness.Tenant t, String question) {
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), ask(question, true).encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    lastStreamBody = resp.body();
    List<String> data = resp.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
    List<JsonObject> chunks = data.subList(0, data.size() - 1).stream().map(JsonObject::new).toList();
    List<String> deltas = new ArrayList<>();
    String finish = null;
    for (JsonObject c : chunks) {
      assertThat(c.containsKey("error")).as(c.encode()).isFalse();
      if (!c.getJsonArray("choices").isEmpty()) {
        JsonObject choice = c.getJsonArray("choices").getJsonObject(0);
        String piece = choice.getJsonObject("delta").getString("content");
        if (piece != null && !piece.isEmpty()) {
          assertThat(finish).as("content after the finish chunk").isNull();
          deltas.add(piece);
        }
        finish = finish == null ? choice.getString("finish_reason") : finish;
      }
    }
    JsonObject last = chunks.get(chunks.size() - 1);
    return new Reply(deltas, last.getString("conversation_id"), last.getJsonObject("usage").getInteger("completion_tokens"),
        finish);
  }

  /** The stored answer's content and completion tokens, as "tokens|content". */
  private String stored(Reply r) {
    return h.string("SELECT completion_tokens || '|' || content FROM messages WHERE role = 'assistant' "
        + "AND status = 'complete' AND conversation_id = '" + r.conversationId() + "'");
  }

  /** What the model wrote before the footer (and the blank line the footer plugin puts before it). */
  private static String modelPart(String content) {
    assertThat(content).endsWith(FOOTER);
    String before = content.substring(0, content.length() - FOOTER.length());
    return before.endsWith("\n\n") ? before.substring(0, before.length() - 2) : before;
  }

  @Test
  void theFooterFollowsAWholeAnswerAndIsStoredWithIt() throws Exception {
    ChatHarness.Tenant t = tenantWith("footer-whole", AnswerFooterPlugin.NAME, new JsonObject().put("footer", FOOTER));
    Reply r = whole(t, "Write a short poem about lamps.");
    String model = modelPart(r.content());
    assertThat(r.content()).isEqualTo(model.isBlank() ? model + FOOTER : model + "\n\n" + FOOTER);
    // usage stays the model's: the footer alone is longer than max_tokens
    assertThat(r.completionTokens()).isBetween(1, 8);
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|" + r.content());
  }

  @Test
  void inAStreamTheFooterIsOneMoreDeltaBeforeTheEnd() throws Exception {
    ChatHarness.Tenant t = tenantWith("footer-stream", AnswerFooterPlugin.NAME, new JsonObject().put("footer", FOOTER));
    Reply r = streamed(t, "Tell me about the weather on Mars.");
    String last = r.deltas().get(r.deltas().size() - 1);
    String model = String.join("", r.deltas().subList(0, r.deltas().size() - 1));
    assertThat(last).isEqualTo((model.isBlank() ? "" : "\n\n") + FOOTER);
    assertThat(r.deltas().size()).as("the model's tokens stream live").isGreaterThan(2);
    assertThat(r.finishReason()).isIn("stop", "length");
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|" + r.content());
  }

  @Test
  void aRewritingPluginHoldsTheStreamBackAndItsAnswerIsStored() throws Exception {
    String rewritten = "Our answer, reviewed: please call us.";
    ChatHarness.Tenant t = tenantWith("rewrite-stream", RewriteTestPlugin.NAME,
        new JsonObject().put("replacement", rewritten));
    Reply r = streamed(t, "Count to ten, please.");
    assertThat(r.deltas()).containsExactly(rewritten);
    assertThat(r.completionTokens()).as("the model's tokens").isBetween(1, 8);
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|" + rewritten);
    assertThat(whole(t, "And once more, not streamed.").content()).isEqualTo(rewritten);
  }

  @Test
  void aHookThatHangsOrFailsKeepsTheAnswerAndTheOtherHooksStillRun() throws Exception {
    ChatHarness.Tenant t = tenantWith("hook-hangs", RewriteTestPlugin.NAME,
        new JsonObject().put("behaviour", "hang").put("postTimeoutMs", 200));
    h.execOwner("INSERT INTO plugin_configs (tenant_id, plugin, config) VALUES ('" + t.id() + "', '"
        + AnswerFooterPlugin.NAME + "', '" + new JsonObject().put("footer", FOOTER).encode() + "')");
    Reply r = streamed(t, "What is the capital of France?");
    // held back (the hanging plugin may rewrite), then the model's answer with the footer as one delta
    assertThat(r.deltas()).hasSize(1);
    modelPart(r.content());
    assertThat(r.completionTokens()).isBetween(1, 8);
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|" + r.content());

    ChatHarness.Tenant failing = tenantWith("hook-fails", RewriteTestPlugin.NAME,
        new JsonObject().put("behaviour", "fail"));
    Reply f = whole(failing, "What is the capital of Spain?");
    assertThat(f.completionTokens()).isBetween(1, 8);
    assertThat(stored(f)).isEqualTo(f.completionTokens() + "|" + f.content());
  }

  @Test
  void aHookSlowerThanTheEdgesSilenceLimitStillDelivers() throws Exception {
    // the harness's edge gives up after 7 s of silence (idle 3 s + twice the 2 s request timeout)
    ChatHarness.Tenant t = tenantWith("hook-slow", RewriteTestPlugin.NAME, new JsonObject().put("behaviour", "slow")
        .put("delayMs", 7_500).put("postTimeoutMs", 10_000).put("replacement", "Worth the wait."));
    Reply r = streamed(t, "Is it worth the wait?");
    assertThat(r.deltas()).containsExactly("Worth the wait.");
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|Worth the wait.");
    assertThat(lastStreamBody).as("SSE comments keep proxies from cutting the held-back stream")
        .contains("\n: keep-alive\n\n");
  }

  @Test
  void aClientThatLeavesWhileTheHooksRunStillHasItsAnswerStoredComplete() throws Exception {
    // the turn's outcome is decided when the model finishes: a cancel during the hooks changes nothing
    String question = "Leave while the rewrite runs.";
    ChatHarness.Tenant t = tenantWith("hook-left", RewriteTestPlugin.NAME, new JsonObject().put("behaviour", "slow")
        .put("delayMs", 2_500).put("postTimeoutMs", 10_000).put("replacement", "Kept though you left."));
    Promise<Void> hookStarted = Promise.promise();
    MessageConsumer<String> starts = vertx.eventBus().consumer(RewriteTestPlugin.SLOW_STARTED, m -> {
      if (question.equals(m.body())) {
        hookStarted.tryComplete();
      }
    });
    await(starts.completion());
    try (Socket socket = h.openCompletion(t.apiKey(), ask(question, true))) {
      hookStarted.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      starts.unregister();
    }
    String answer = "SELECT status || '|' || content FROM messages WHERE role = 'assistant' AND reply_to IN "
        + "(SELECT id FROM messages WHERE content = '" + question + "')";
    until("the answer is no longer streaming", Duration.ofSeconds(15), () -> {
      String row = h.string(answer);
      return row == null || !row.startsWith("streaming");
    });
    assertThat(h.string(answer)).isEqualTo("complete|Kept though you left.");
  }

  @Test
  void theWordListMasksWordsInTheFooter() throws Exception {
    ChatHarness.Tenant t = tenantWith("footer-masked", AnswerFooterPlugin.NAME,
        new JsonObject().put("footer", "Ask our forbidden team."));
    h.execOwner("UPDATE tenant_settings SET moderation_action = 'mask' WHERE tenant_id = '" + t.id() + "'");
    h.execOwner("INSERT INTO sensitive_words (tenant_id, word) VALUES ('" + t.id() + "', 'forbidden')");
    Reply r = streamed(t, "Say something nice.");
    assertThat(r.deltas().get(r.deltas().size() - 1)).endsWith("Ask our ********* team.");
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|" + r.content()).doesNotContain("forbidden");
  }

  @Test
  void aTenantWithoutThePluginIsUnaffected() throws Exception {
    ChatHarness.Tenant owner = tenantWith("footer-owner", AnswerFooterPlugin.NAME, new JsonObject().put("footer", FOOTER));
    ChatHarness.Tenant plain = h.tenant("no-plugins");
    assertThat(streamed(owner, "Tell me about the moon.").content()).endsWith(FOOTER);
    Reply r = streamed(plain, "Tell me about the moon.");
    assertThat(r.content()).doesNotContain(FOOTER);
    assertThat(r.deltas().size()).as("streamed live").isGreaterThan(1);
    assertThat(stored(r)).isEqualTo(r.completionTokens() + "|" + r.content());
  }

  @Test
  void theWidgetGetsTheFooterOverTheWebSocketAndTheRewriteOverSse() throws Exception {
    ChatHarness.Tenant t = tenantWith("widget-footer", AnswerFooterPlugin.NAME, new JsonObject().put("footer", FOOTER));
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = await(WebSockets.client(vertx).connect(new WebSocketConnectOptions()
        .setHost("127.0.0.1").setPort(h.port).setURI("/widget/ws?token=" + visitorToken(t)).addHeader("Origin", t.origin())));
    ws.textMessageHandler(text -> inbox.add(new JsonObject(text)));
    ws.writeTextMessage(widgetMessage("Hello there").encode());
    List<JsonObject> events = new ArrayList<>();
    do {
      JsonObject e = inbox.poll(30, TimeUnit.SECONDS);
      assertThat(e).as("an event after " + events).isNotNull();
      events.add(e);
    } while (!List.of("done", "error").contains(events.get(events.size() - 1).getString("type")));
    ws.close();
    assertThat(events.get(events.size() - 1).getString("type")).isEqualTo("done");
    List<String> deltas = events.stream().filter(e -> e.getString("type").equals("delta"))
        .map(e -> e.getString("content", "")).filter(c -> !c.isEmpty()).toList();
    assertThat(deltas.get(deltas.size() - 1)).endsWith(FOOTER);
    String conversation = events.get(0).getString("conversationId");
    assertThat(h.string("SELECT content FROM messages WHERE role = 'assistant' AND conversation_id = '" + conversation
        + "'")).isEqualTo(String.join("", deltas));

    ChatHarness.Tenant r = tenantWith("widget-rewrite", RewriteTestPlugin.NAME, new JsonObject().put("replacement", "Rewritten."));
    HttpResponse<String> sse = h.send(h.request("/widget/chat").header("Authorization", "Bearer " + visitorToken(r))
        .header("Origin", r.origin()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(widgetMessage("Hello over SSE").encode())));
    List<JsonObject> sseEvents = sse.body().lines().filter(l -> l.startsWith("data: "))
        .map(l -> new JsonObject(l.substring(6))).toList();
    assertThat(sseEvents.stream().filter(e -> e.getString("type").equals("delta")).map(e -> e.getString("content")))
        .containsExactly("Rewritten.");
    assertThat(sseEvents.get(sseEvents.size() - 1).getString("type")).isEqualTo("done");
  }

  private String visitorToken(ChatHarness.Tenant t) {
    HttpResponse<String> resp = h.send(h.request("/widget/session").header("Content-Type", "application/json")
        .header("Origin", t.origin())
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", t.widgetKey()).encode())));
    assertThat(resp.statusCode()).isEqualTo(200);
    return new JsonObject(resp.body()).getString("visitorToken");
  }

  private static JsonObject widgetMessage(String text) {
    return new JsonObject().put("type", "message").put("text", text).putNull("conversationId")
        .put("clientMessageId", UUID.randomUUID().toString());
  }
}
