package ai.deepchat.chat;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.KnowledgeBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The opt-in trace of a turn (issue #15 item 5) over real HTTP, PostgreSQL, the intent router, ingestion
 * and retrieval; only DeepSeek's API is emulated. An FAQ turn, a knowledge turn and a plain chat turn each
 * carry a trace whose parts agree with the path that answered, stored with the answer; a call that does
 * not ask gets none and stores none.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TurnTraceIntegrationTest {

  private ChatHarness h;
  private Rag rag;
  private ChatHarness.Tenant helpdesk;
  private ChatHarness.Tenant plain;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    // retrieval waits as long as a loaded test machine needs: a knowledge turn without sources proves nothing
    h = new ChatHarness(vertx).start(Map.of("CHAT_RETRIEVAL_TIMEOUT_MS", "10000"));
    rag = h.withRag();
    helpdesk = h.tenant("trace-help");
    plain = h.tenant("trace-plain");
    h.execOwner("INSERT INTO faq_entries (tenant_id, question, answer) VALUES ('" + helpdesk.id()
        + "', 'How do I reset my password?', 'Open Settings, then Security, then Reset password.')");
    KnowledgeBase kb = await(rag.knowledgeBases().createKnowledgeBase(helpdesk.id(), "Help", "",
        "bge-small-en-v1.5-q"));
    var upload = await(rag.knowledgeBases().upload(helpdesk.id(), kb.id(), "shipping.md", Buffer.buffer(
        "# Shipping\n\n## Parcels abroad\n\nParcels to other countries are shipped by air freight and arrive "
            + "within ten working days.\n\n## Returns\n\nReturned parcels are refunded within five working days.\n")));
    assertThat(await(upload.completion()).status()).isEqualTo("ready");
    h.execOwner("UPDATE tenant_settings SET default_knowledge_base_id = '" + kb.id() + "' WHERE tenant_id = '"
        + helpdesk.id() + "'");
    // the first search opens the index and loads the embedding model: longer than a turn waits
    RetrieveReply warm = await(vertx.eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(helpdesk.id().toString(), kb.id().toString(), "parcels", 5),
            new DeliveryOptions().setSendTimeout(30_000)).map(m -> m.body()));
    assertThat(warm.hits()).isNotEmpty();
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
  }

  private HttpResponse<String> ask(ChatHarness.Tenant t, String question, boolean traced) {
    HttpRequest.Builder b = h.request("/v1/chat/completions").header("Authorization", "Bearer " + t.apiKey())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("temperature", 1)
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", question)))
            .encode()));
    if (traced) {
      b.header("X-DeepChat-Trace", "1");
    }
    HttpResponse<String> resp = h.send(b);
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    return resp;
  }

  /** The trace the answer row stores, as the owner sees it. */
  private JsonObject stored(JsonObject completion) {
    String id = completion.getString("id").substring("chatcmpl-".length());
    String json = h.string("SELECT trace::text FROM messages WHERE id = '" + id + "'");
    return json == null ? null : new JsonObject(json);
  }

  @Test
  void anFaqTurnsTraceShowsTheMatchedFaqAndNoModel() {
    JsonObject body = new JsonObject(ask(helpdesk, "how do I reset my password", true).body());
    JsonObject trace = body.getJsonObject("deepchat_trace");
    assertThat(body.getString("intent")).isEqualTo("faq");
    JsonObject routing = trace.getJsonObject("routing");
    assertThat(routing.getString("intent")).isEqualTo("faq");
    assertThat(routing.getString("answered_from")).isEqualTo("faq");
    JsonArray candidates = trace.getJsonArray("faq_candidates");
    assertThat(candidates).hasSize(1);
    assertThat(candidates.getJsonObject(0).getBoolean("matched")).isTrue();
    assertThat(candidates.getJsonObject(0).getDouble("score")).isEqualTo(routing.getDouble("score"))
        .isGreaterThan(0.5);
    assertThat(h.string("SELECT id::text FROM faq_entries WHERE tenant_id = '" + helpdesk.id() + "'"))
        .isEqualTo(candidates.getJsonObject(0).getString("faq_id"));
    assertThat(trace.getValue("retrieval")).isNull();
    assertThat(trace.getValue("model")).as("no model answered").isNull();
    assertThat(trace.getJsonObject("tokens").getInteger("completion_tokens")).isZero();
    assertThat(trace.getJsonObject("moderation").getString("input")).isEqualTo("allow");
    latencyAddsUp(trace, false);
    assertThat(stored(body)).isEqualTo(trace);
  }

  @Test
  void aKnowledgeTurnsTraceShowsTheHitsWithTheirScoresAndWhatWasCited() {
    JsonObject body = new JsonObject(ask(helpdesk, "How long do parcels to other countries take?", true).body());
    JsonObject trace = body.getJsonObject("deepchat_trace");
    assertThat(body.getString("intent")).isEqualTo("knowledge");
    JsonObject routing = trace.getJsonObject("routing");
    assertThat(routing.getString("intent")).isEqualTo("knowledge");
    assertThat(routing.getString("answered_from")).isEqualTo("model");
    // the FAQ was a candidate the router scored, below its threshold: not the match
    JsonArray candidates = trace.getJsonArray("faq_candidates");
    assertThat(candidates.stream().map(JsonObject.class::cast).noneMatch(c -> c.getBoolean("matched")))
        .as("the FAQ did not match").isTrue();
    assertThat(routing.getJsonObject("scores").getDouble("knowledge")).isEqualTo(routing.getDouble("score"));
    JsonObject retrieval = trace.getJsonObject("retrieval");
    JsonArray hits = retrieval.getJsonArray("hits");
    assertThat(hits).isNotEmpty();
    JsonObject top = hits.getJsonObject(0);
    assertThat(top.getInteger("rank")).isEqualTo(1);
    assertThat(top.getString("document_title")).isEqualTo("Shipping");
    assertThat(top.getString("section_path")).contains("Parcels abroad");
    for (int i = 0; i < hits.size(); i++) {
      JsonObject hit = hits.getJsonObject(i);
      assertThat(hit.getDouble("fused_score")).isGreaterThan(0);
      assertThat(hit.getDouble("vector_score")).isBetween(-1.0, 1.0001);
      assertThat(hit.getDouble("lexical_score")).isGreaterThanOrEqualTo(0);
      if (i > 0) {
        assertThat(hit.getDouble("fused_score")).isLessThanOrEqualTo(hits.getJsonObject(i - 1).getDouble("fused_score"));
      }
    }
    // the citations the client got are exactly the hits the trace marks as cited
    long cited = hits.stream().map(JsonObject.class::cast).filter(x -> x.getBoolean("cited")).count();
    assertThat(cited).isEqualTo(body.getJsonArray("citations").size()).isPositive();
    JsonObject model = trace.getJsonObject("model");
    assertThat(model.getString("name")).isEqualTo(body.getString("model"));
    assertThat(model.getString("arm")).isEqualTo("default");
    assertThat(model.getString("reason")).isNotBlank();
    assertThat(trace.getJsonObject("tokens").getInteger("prompt_tokens")).isEqualTo(11);
    assertThat(trace.getJsonObject("tokens").getInteger("completion_tokens")).isEqualTo(7);
    JsonObject latency = latencyAddsUp(trace, true);
    // the router's search (a query embedding, FAISS, full text) has its own figure, not folded into routing
    assertThat(latency.getDouble("retrieval_ms")).isGreaterThanOrEqualTo(1);
    assertThat(stored(body)).isEqualTo(trace);
  }

  @Test
  void aPlainChatTurnsTraceShowsTheModelAndNoRetrieval() {
    JsonObject body = new JsonObject(ask(plain, "Write a haiku about the sea", true).body());
    JsonObject trace = body.getJsonObject("deepchat_trace");
    assertThat(body.getString("intent")).isEqualTo("chat");
    assertThat(trace.getJsonObject("routing").getString("intent")).isEqualTo("chat");
    assertThat(trace.getJsonObject("routing").getString("answered_from")).isEqualTo("model");
    assertThat(trace.getValue("retrieval")).isNull();
    assertThat(trace.getJsonObject("model").getString("arm")).isEqualTo("default");
    assertThat(trace.getJsonObject("moderation").getString("output")).isEqualTo("none");
    assertThat(trace.getJsonObject("tokens").getInteger("completion_tokens")).isEqualTo(7);
    JsonObject latency = latencyAddsUp(trace, true);
    assertThat(latency.getDouble("retrieval_ms")).isZero();
    assertThat(stored(body)).isEqualTo(trace);
  }

  @Test
  void aStreamedAnswerEndsWithTheTraceInItsLastEvent() throws Exception {
    HttpResponse<java.util.stream.Stream<String>> resp = h.http.send(h.request("/v1/chat/completions")
        .header("Authorization", "Bearer " + plain.apiKey()).header("Content-Type", "application/json")
        .header("X-DeepChat-Trace", "1")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("stream", true).put("temperature", 1)
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Tell me a joke")))
            .encode())).build(), HttpResponse.BodyHandlers.ofLines());
    List<JsonObject> events = resp.body().filter(l -> l.startsWith("data: {")).map(l -> new JsonObject(l.substring(6)))
        .toList();
    List<JsonObject> traced = events.stream().filter(e -> e.containsKey("deepchat_trace")).toList();
    assertThat(traced).hasSize(1);
    assertThat(traced.get(0)).isSameAs(events.get(events.size() - 1));
    assertThat(traced.get(0).getJsonObject("deepchat_trace").getJsonObject("routing").getString("intent"))
        .isEqualTo("chat");
    latencyAddsUp(traced.get(0).getJsonObject("deepchat_trace"), true);
  }

  @Test
  void aBlockedMessagesTraceNamesTheWordAndNoModelRan() throws Exception {
    ChatHarness.Tenant strict = h.tenant("trace-words");
    h.execOwner("INSERT INTO sensitive_words (tenant_id, word) VALUES ('" + strict.id() + "', 'forbidden')");
    JsonObject body = new JsonObject(ask(strict, "tell me the forbidden thing", true).body());
    JsonObject trace = body.getJsonObject("deepchat_trace");
    assertThat(body.getString("intent")).isEqualTo("blocked");
    assertThat(trace.getJsonObject("moderation").getString("input")).isEqualTo("block");
    assertThat(trace.getJsonObject("moderation").getJsonArray("input_words")).containsExactly("forbidden");
    assertThat(trace.getJsonObject("routing").getString("answered_from")).isEqualTo("blocked");
    assertThat(trace.getValue("model")).isNull();
    assertThat(stored(body)).isEqualTo(trace);
  }

  @Test
  void aCallThatDoesNotAskGetsNoTraceAndStoresNone() {
    JsonObject body = new JsonObject(ask(helpdesk, "How are returned parcels refunded?", false).body());
    assertThat(body.getString("intent")).isEqualTo("knowledge");
    assertThat(body.containsKey("deepchat_trace")).isFalse();
    assertThat(stored(body)).isNull();
    JsonObject faq = new JsonObject(ask(helpdesk, "How do I reset my password?", false).body());
    assertThat(faq.containsKey("deepchat_trace")).isFalse();
    assertThat(stored(faq)).isNull();
  }

  /** Every part non-negative and the disjoint parts within the total; {@code modelAnswered}: a first token. */
  private static JsonObject latencyAddsUp(JsonObject trace, boolean modelAnswered) {
    JsonObject l = trace.getJsonObject("latency");
    double sum = 0;
    for (String part : List.of("queue_ms", "routing_ms", "retrieval_ms", "first_token_ms", "generation_ms")) {
      assertThat(l.getDouble(part)).as(part).isGreaterThanOrEqualTo(0);
      sum += l.getDouble(part);
    }
    assertThat(l.getDouble("total_ms")).isPositive();
    assertThat(sum).isLessThanOrEqualTo(l.getDouble("total_ms") + 1e-9); // floating-point addition only
    assertThat(l.getDouble("routing_ms")).isPositive();
    if (modelAnswered) {
      assertThat(l.getDouble("first_token_ms")).isPositive();
    } else {
      assertThat(l.getDouble("first_token_ms")).isCloseTo(0, within(0.0));
    }
    return l;
  }
}
