package ai.deepchat.chat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OpenAI tool calling through the API over real HTTP and PostgreSQL, the model an emulated
 * OpenAI-compatible endpoint (loopback) that answers with tool calls: what the caller sends reaches the
 * endpoint, only calls to offered tools come back (whole and streamed), they are stored with the
 * answer and replayed as stored, and every malformed tool field is a 400 naming it.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatToolsApiIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant a;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start();
    a = h.tenant("alpha");
  }

  static JsonObject weather() {
    return new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")
        .put("description", "Weather in a city").put("parameters", new JsonObject().put("type", "object")
            .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")))
            .put("required", new JsonArray().add("city"))));
  }

  static JsonObject user(String text) {
    return new JsonObject().put("role", "user").put("content", text);
  }

  static JsonObject callsMessage(String id) {
    return new JsonObject().put("role", "assistant").putNull("content").put("tool_calls", new JsonArray()
        .add(new JsonObject().put("id", id).put("type", "function").put("function",
            new JsonObject().put("name", "get_weather").put("arguments", "{\"city\": \"Oslo\"}"))));
  }

  static JsonObject toolResult(String id, String text) {
    return new JsonObject().put("role", "tool").put("tool_call_id", id).put("content", text);
  }

  private HttpResponse<String> complete(JsonObject body, String idempotencyKey) {
    HttpRequest.Builder b = h.request("/v1/chat/completions").header("Authorization", "Bearer " + a.apiKey())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode()));
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    return h.send(b);
  }

  @Test
  void toolCallsComeBackWholeOnlyForOfferedToolsAndAReplayReturnsThemAsStored() {
    JsonObject body = new JsonObject().put("temperature", 1)
        .put("messages", new JsonArray().add(user("TOOLS: weather in Paris and Beijing?")))
        .put("tools", new JsonArray().add(weather()));
    HttpResponse<String> first = complete(body, "tools-replay-1");
    assertThat(first.statusCode()).isEqualTo(200);
    JsonObject choice = new JsonObject(first.body()).getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
    JsonObject message = choice.getJsonObject("message");
    assertThat(message.getString("content")).isEqualTo("Checking.");
    JsonArray calls = message.getJsonArray("tool_calls");
    assertThat(calls.size()).isEqualTo(2); // the call to delete_everything, never offered, is gone
    assertThat(calls.getJsonObject(0)).isEqualTo(new JsonObject().put("id", "call_up_0").put("type", "function")
        .put("function", new JsonObject().put("name", "get_weather").put("arguments", "{\"city\": \"Paris\"}")));
    assertThat(calls.getJsonObject(1).getJsonObject("function").getString("arguments"))
        .isEqualTo("{\"city\": \"北京\"}");
    assertThat(calls.getJsonObject(1).getString("id")).isEqualTo("call_up_2");

    // the endpoint got the tools, "auto", and nothing of the dropped call reached the client
    JsonObject sent = h.remote.requests.get(h.remote.requests.size() - 1);
    assertThat(sent.getJsonArray("tools")).isEqualTo(new JsonArray().add(weather()));
    assertThat(sent.getString("tool_choice")).isEqualTo("auto");
    assertThat(first.body()).doesNotContain("delete_everything");

    int before = h.remote.requests.size();
    HttpResponse<String> replay = complete(body, "tools-replay-1");
    assertThat(h.remote.requests.size()).isEqualTo(before);
    assertThat(new JsonObject(replay.body()).getJsonArray("choices"))
        .isEqualTo(new JsonObject(first.body()).getJsonArray("choices"));
    assertThat(h.string("SELECT tool_calls::text FROM messages WHERE role = 'assistant' AND tool_calls IS NOT NULL "
        + "AND tool_calls::text LIKE '%call_up_0%'")).contains("get_weather", "Paris");
  }

  /** A streamed completion: its tool-call pieces (in order) and its finish reason. */
  private record Streamed(List<JsonObject> pieces, String finish) {
    /** The arguments of call {@code index}, its pieces joined. */
    String arguments(int index) {
      StringBuilder sb = new StringBuilder();
      pieces.stream().filter(p -> p.getInteger("index") == index)
          .forEach(p -> sb.append(p.getJsonObject("function").getString("arguments")));
      return sb.toString();
    }
  }

  private Streamed stream(JsonObject body, String idempotencyKey) throws Exception {
    HttpRequest.Builder b = h.request("/v1/chat/completions").header("Authorization", "Bearer " + a.apiKey())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode()));
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    HttpResponse<java.util.stream.Stream<String>> resp = h.http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(resp.statusCode()).isEqualTo(200);
    List<String> data = resp.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    List<JsonObject> pieces = new ArrayList<>();
    String finish = null;
    for (String d : data.subList(0, data.size() - 1)) {
      JsonArray choices = new JsonObject(d).getJsonArray("choices");
      if (choices.isEmpty()) {
        continue;
      }
      JsonObject delta = choices.getJsonObject(0).getJsonObject("delta");
      if (delta.getJsonArray("tool_calls") != null) {
        delta.getJsonArray("tool_calls").forEach(p -> pieces.add((JsonObject) p));
      }
      finish = choices.getJsonObject(0).getString("finish_reason", finish);
    }
    return new Streamed(pieces, finish);
  }

  @Test
  void toolCallsStreamAsDeltaPiecesWithTheIdAndNameFirstAndAStreamedReplayHasTheSameCalls() throws Exception {
    JsonObject body = new JsonObject().put("stream", true).put("temperature", 1)
        .put("messages", new JsonArray().add(user("TOOLS streamed")))
        .put("tools", new JsonArray().add(weather()));
    Streamed first = stream(body, "tools-stream-replay");
    assertThat(first.finish()).isEqualTo("tool_calls");
    JsonObject firstPiece = first.pieces().get(0);
    assertThat(firstPiece.getInteger("index")).isZero();
    assertThat(firstPiece.getString("id")).isEqualTo("call_up_0");
    assertThat(firstPiece.getString("type")).isEqualTo("function");
    assertThat(firstPiece.getJsonObject("function").getString("name")).isEqualTo("get_weather");
    assertThat(firstPiece.getJsonObject("function").getString("arguments")).isEmpty();
    for (JsonObject p : first.pieces()) {
      assertThat(p.getInteger("index")).isBetween(0, 1);
      if (p.getString("id") == null) {
        assertThat(p.getJsonObject("function").containsKey("name")).isFalse();
      }
    }
    assertThat(first.arguments(0)).isEqualTo("{\"city\": \"Paris\"}");
    assertThat(first.arguments(1)).isEqualTo("{\"city\": \"北京\"}");

    int before = h.remote.requests.size();
    Streamed replay = stream(body, "tools-stream-replay");
    assertThat(h.remote.requests.size()).isEqualTo(before);
    assertThat(replay.finish()).isEqualTo("tool_calls");
    assertThat(replay.arguments(0)).isEqualTo(first.arguments(0));
    assertThat(replay.arguments(1)).isEqualTo(first.arguments(1));
    assertThat(replay.pieces()).filteredOn(p -> p.getString("id") != null)
        .extracting(p -> p.getString("id")).containsExactly("call_up_0", "call_up_2");
  }

  @Test
  void aToolResultContinuesTheConversationAndIsStoredAsAToolMessage() {
    JsonObject body = new JsonObject().put("temperature", 1).put("messages", new JsonArray()
            .add(user("Weather in Oslo?")).add(callsMessage("call_oslo")).add(toolResult("call_oslo", "-3 C in Oslo")))
        .put("tools", new JsonArray().add(weather())).put("tool_choice", new JsonObject().put("type", "function")
            .put("function", new JsonObject().put("name", "get_weather"))).put("parallel_tool_calls", false);
    HttpResponse<String> resp = complete(body, null);
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(resp.body()).getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .getString("content")).isEqualTo("Echo: -3 C in Oslo");
    JsonObject sent = h.remote.requests.get(h.remote.requests.size() - 1);
    JsonArray msgs = sent.getJsonArray("messages");
    JsonObject assistant = msgs.getJsonObject(msgs.size() - 2);
    assertThat(assistant.getValue("content")).isNull();
    assertThat(assistant.getJsonArray("tool_calls").getJsonObject(0).getString("id")).isEqualTo("call_oslo");
    assertThat(msgs.getJsonObject(msgs.size() - 1)).isEqualTo(toolResult("call_oslo", "-3 C in Oslo"));
    assertThat(sent.getJsonObject("tool_choice").getJsonObject("function").getString("name")).isEqualTo("get_weather");
    assertThat(sent.getBoolean("parallel_tool_calls")).isFalse();
    assertThat(h.string("SELECT role || '|' || tool_call_id FROM messages WHERE content = '-3 C in Oslo'"))
        .isEqualTo("tool|call_oslo");
  }

  @Test
  void anEndpointAnsweringWholeInsteadOfStreamingIsMappedToo() {
    JsonObject body = new JsonObject().put("temperature", 1)
        .put("messages", new JsonArray().add(user("TOOLS WHOLE please")))
        .put("tools", new JsonArray().add(weather()));
    HttpResponse<String> resp = complete(body, null);
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    JsonObject body2 = new JsonObject(resp.body());
    JsonObject choice = body2.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
    assertThat(choice.getJsonObject("message").getValue("content")).isNull();
    assertThat(choice.getJsonObject("message").getJsonArray("tool_calls")).isEqualTo(new JsonArray().add(new JsonObject()
        .put("id", "call_w1").put("type", "function").put("function", new JsonObject().put("name", "get_weather")
            .put("arguments", "{\"city\": \"Lima\"}"))));
    assertThat(body2.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(4);
  }

  @Test
  void toolDefinitionsCountAgainstTheModelsContext() {
    JsonObject huge = new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "huge")
        .put("description", "weather ".repeat(5000)));
    JsonObject body = new JsonObject().put("max_tokens", 4000)
        .put("messages", new JsonArray().add(user("TOOLS that do not fit")))
        .put("tools", new JsonArray().add(huge));
    HttpResponse<String> resp = complete(body, null);
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(400);
    assertThat(new JsonObject(resp.body()).getJsonObject("error").getString("code")).isEqualTo("context_length_exceeded");
    body.put("tools", new JsonArray().add(weather()));
    assertThat(complete(body, null).statusCode()).isEqualTo(200);
  }

  @Test
  void toolChoiceNoneOffersNoTools() {
    JsonObject body = new JsonObject().put("temperature", 1)
        .put("messages", new JsonArray().add(user("TOOLS but none wanted")))
        .put("tools", new JsonArray().add(weather())).put("tool_choice", "none");
    HttpResponse<String> resp = complete(body, null);
    assertThat(resp.statusCode()).isEqualTo(200);
    JsonObject choice = new JsonObject(resp.body()).getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
    assertThat(choice.getJsonObject("message").containsKey("tool_calls")).isFalse();
    assertThat(h.remote.requests.get(h.remote.requests.size() - 1).containsKey("tools")).isFalse();
  }

  @Test
  void malformedToolFieldsAre400sNamingTheFieldAndWriteNothing() {
    long msgs = h.count("SELECT count(*) FROM messages");
    JsonArray tools = new JsonArray().add(weather());
    JsonArray many = new JsonArray();
    for (int i = 0; i < 129; i++) {
      many.add(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "f" + i)));
    }
    record Case(JsonObject body, String code, String says) {
    }
    List<Case> cases = List.of(
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tools", tools)
            .put("tool_choice", new JsonObject().put("type", "function").put("function", new JsonObject()
                .put("name", "launch_rocket"))), "invalid_tool_choice", "launch_rocket"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tool_choice", "required"),
            "invalid_tool_choice", "tools"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tools", tools)
            .put("tool_choice", "sometimes"), "invalid_tool_choice", "tool_choice"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi")).add(callsMessage("c1"))
            .add(new JsonObject().put("role", "tool").put("content", "x"))), "invalid_messages", "tool_call_id"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi")).add(toolResult("nobody", "x"))),
            "invalid_messages", "nobody"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi")).add(new JsonObject()
            .put("role", "assistant").put("tool_calls", new JsonArray().add(new JsonObject().put("id", "c")
                .put("function", new JsonObject().put("name", "f").put("arguments", new JsonObject())))))
            .add(user("again"))), "invalid_messages", "tool_calls"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi")))
            .put("tools", new JsonArray().add(weather()).add(weather())), "invalid_tools", "twice"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tools", many),
            "invalid_tools", "128"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tools", new JsonArray()
            .add(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "bad name")))),
            "invalid_tools", "name"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tools", new JsonArray()
            .add(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "f")
                .put("parameters", "not a schema")))), "invalid_tools", "parameters"),
        new Case(new JsonObject().put("messages", new JsonArray().add(user("hi"))).put("tools", tools)
            .put("parallel_tool_calls", "yes"), "invalid_parallel_tool_calls", "parallel_tool_calls"));
    for (Case c : cases) {
      HttpResponse<String> resp = complete(c.body(), null);
      assertThat(resp.statusCode()).as(c.body().encode()).isEqualTo(400);
      JsonObject error = new JsonObject(resp.body()).getJsonObject("error");
      assertThat(error.getString("code")).as(c.body().encode()).isEqualTo(c.code());
      assertThat(error.getString("message")).as(c.body().encode()).contains(c.says());
    }
    assertThat(h.count("SELECT count(*) FROM messages")).isEqualTo(msgs);
  }
}
