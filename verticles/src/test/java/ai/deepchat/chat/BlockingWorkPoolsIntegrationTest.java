package ai.deepchat.chat;

import ai.deepchat.platform.concurrent.BusyDefaultWorkers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chat turn's blocking steps (the word list's automaton, token counts and prompt building on the
 * tokenizer pool, the engine's admission on its own pool) do not wait for Vert.x's default worker pool:
 * with every thread of it held, a new tenant's first turn is still answered by the real engine.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BlockingWorkPoolsIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant t;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start(false).withEngine();
    t = h.tenant("pools");
  }

  private HttpResponse<String> ask(String question) {
    // not greedy: no response cache, so every turn counts tokens and runs the engine
    return h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject().put("max_tokens", 4).put("temperature", 0.7)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", question))).encode());
  }

  @Test
  void aTurnIsAnsweredWhileTheDefaultWorkerPoolIsFull() throws Exception {
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      // the tenant's first turn: its word list is loaded and compiled now
      HttpResponse<String> resp = CompletableFuture.supplyAsync(() -> ask("and again?")).get(30, TimeUnit.SECONDS);
      assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
      assertThat(new JsonObject(resp.body()).getJsonObject("usage").getInteger("completion_tokens")).isPositive();
    }
  }
}
