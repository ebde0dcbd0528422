package ai.deepchat.chat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.util.List;

import static ai.deepchat.chat.ChatToolsApiIntegrationTest.callsMessage;
import static ai.deepchat.chat.ChatToolsApiIntegrationTest.toolResult;
import static ai.deepchat.chat.ChatToolsApiIntegrationTest.user;
import static ai.deepchat.chat.ChatToolsApiIntegrationTest.weather;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool conversations on the real engine worker (the bundled random-weight test model, DeepSeek-V3
 * tokenizer and chat template): the worker renders the tools, the calls and the results into the
 * prompt, and whatever the random model writes, only well-formed answers come back.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatToolsEngineIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start(false).withEngine();
    t = h.tenant("engine-tools");
  }

  private JsonObject complete(JsonObject body) {
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), body.put("max_tokens", 8).encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    return new JsonObject(resp.body());
  }

  @Test
  void theToolDefinitionsCallsAndResultsReachTheModelsPrompt() {
    JsonArray conversation = new JsonArray().add(user("Weather in Oslo?")).add(callsMessage("call_oslo"))
        .add(toolResult("call_oslo", "-3 C"));
    JsonObject without = complete(new JsonObject().put("messages", new JsonArray().add(user("Weather in Oslo?"))));
    JsonObject withHistory = complete(new JsonObject().put("messages", conversation.copy()));
    JsonObject withTools = complete(new JsonObject().put("messages", conversation.copy())
        .put("tools", new JsonArray().add(weather())));
    int plain = without.getJsonObject("usage").getInteger("prompt_tokens");
    int history = withHistory.getJsonObject("usage").getInteger("prompt_tokens");
    int tools = withTools.getJsonObject("usage").getInteger("prompt_tokens");
    // the call (name, arguments, markers) and the result are rendered; the "# Tools" section is long
    assertThat(history).isGreaterThan(plain + 15);
    assertThat(tools).isGreaterThan(history + 80);
    for (JsonObject body : List.of(without, withHistory, withTools)) {
      JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
      assertThat(choice.getString("finish_reason")).isIn("stop", "length", "tool_calls");
      JsonArray calls = choice.getJsonObject("message").getJsonArray("tool_calls");
      if (calls != null) { // the random model may emit a call: only to the offered tool
        calls.forEach(c -> assertThat(((JsonObject) c).getJsonObject("function").getString("name"))
            .isEqualTo("get_weather"));
      }
    }
  }
}
