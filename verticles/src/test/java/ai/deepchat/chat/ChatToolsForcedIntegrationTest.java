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

import static ai.deepchat.chat.ChatToolsApiIntegrationTest.user;
import static ai.deepchat.chat.ChatToolsApiIntegrationTest.weather;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * tool_choice "required" and a named function on the real engine: constrained decoding (the
 * OutputConstraint TOOL_CALLS the API sets) makes even the random-weight test model call the tool
 * with arguments valid under its parameters. Needs the engine's enforcement of TOOL_CALLS (helper
 * "constrain"); until it is merged this class fails.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatToolsForcedIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start(false).withEngine();
    t = h.tenant("forced-tools");
  }

  private void assertForcedCall(Object toolChoice) {
    JsonObject body = new JsonObject().put("messages", new JsonArray().add(user("Weather in Oslo?")))
        .put("tools", new JsonArray().add(weather())).put("tool_choice", toolChoice)
        .put("parallel_tool_calls", false).put("max_tokens", 256);
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), body.encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    JsonObject choice = new JsonObject(resp.body()).getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
    JsonArray calls = choice.getJsonObject("message").getJsonArray("tool_calls");
    assertThat(calls.size()).isEqualTo(1);
    JsonObject function = calls.getJsonObject(0).getJsonObject("function");
    assertThat(function.getString("name")).isEqualTo("get_weather");
    assertThat(new JsonObject(function.getString("arguments")).getValue("city")).isInstanceOf(String.class);
  }

  @Test
  void requiredMakesTheModelCallATool() {
    assertForcedCall("required");
  }

  @Test
  void aNamedFunctionIsCalled() {
    assertForcedCall(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")));
  }
}
