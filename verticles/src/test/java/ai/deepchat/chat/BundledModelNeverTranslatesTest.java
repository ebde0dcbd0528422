package ai.deepchat.chat;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.rag.KnowledgeBase;
import ai.deepchat.rag.Rag;
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
import java.util.concurrent.CopyOnWriteArrayList;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bundled test model is never asked to translate a question (issue #15): its output means nothing,
 * so a tenant on it that turned query translation on has its question searched as asked. A real engine
 * worker on the bundled tiny model answers; every generation the engine is sent is watched on the bus.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BundledModelNeverTranslatesTest {

  private static final String DOCUMENT = "# 退货政策\n\n## 七天无理由退货\n\n自签收之日起七天内，商品未拆封的，可以申请退货。\n";

  /** Every generation sent to an engine worker, as sent. */
  private final List<GenerateRequest> generations = new CopyOnWriteArrayList<>();
  private ChatHarness h;
  private Rag rag;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (ctx.message().address().startsWith(Addresses.ENGINE_GENERATE)
          && ctx.message().body() instanceof GenerateRequest g) {
        generations.add(g);
      }
      ctx.next();
    });
    // the router's first question loads its embedding model: a retrieval timeout that outlasts that
    h = new ChatHarness(vertx).start(false, Map.of("CHAT_RETRIEVAL_TIMEOUT_MS", "10000")).withEngine();
    rag = h.withRag();
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
  }

  @Test
  void aTenantOnTheTestModelWithTranslationOnIsSearchedUntranslated(Vertx vertx) throws Exception {
    ChatHarness.Tenant t = h.tenant("bundled-translate");
    KnowledgeBase kb = await(rag.knowledgeBases().createKnowledgeBase(t.id(), "退货", "", null));
    var upload = await(rag.knowledgeBases().upload(t.id(), kb.id(), "returns.md", Buffer.buffer(DOCUMENT)));
    assertThat(await(upload.completion()).status()).isEqualTo("ready");
    h.execOwner("UPDATE tenant_settings SET default_knowledge_base_id = '" + kb.id()
        + "', query_translation = true, unanswered_action = 'chat' WHERE tenant_id = '" + t.id() + "'");
    // the first search opens the index and loads the embedding model: longer than a turn waits
    RetrieveReply warm = await(vertx.eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
        new RetrieveRequest(t.id().toString(), kb.id().toString(), "退货", 5),
        new DeliveryOptions().setSendTimeout(30_000)).map(m -> m.body()));
    assertThat(warm.hits()).isNotEmpty();

    generations.clear();
    HttpResponse<String> resp = h.send(h.request("/v1/chat/completions").header("Authorization", "Bearer " + t.apiKey())
        .header("Content-Type", "application/json").header("X-DeepChat-Trace", "1")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("max_tokens", 4).put("messages", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", "Can I return an unopened item?"))).encode())));
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    JsonObject trace = new JsonObject(resp.body()).getJsonObject("deepchat_trace");
    assertThat(trace.getJsonObject("translation")).as("the router searched the knowledge base: %s", trace).isNotNull();
    assertThat(trace.getJsonObject("model").getBoolean("test_model")).isTrue();
    assertThat(trace.getJsonObject("translation").getString("status")).isEqualTo("test_model");
    assertThat(trace.getJsonObject("translation").getString("text")).isNull();
    // the engine answered the question and was asked nothing else
    assertThat(generations).hasSize(1);
    assertThat(generations.get(0).messages()).noneMatch(m -> m.content() != null && m.content().startsWith("Translate"));
  }
}
