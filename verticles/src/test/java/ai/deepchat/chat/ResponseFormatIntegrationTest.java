package ai.deepchat.chat;

import ai.deepchat.policy.plugin.footer.AnswerFooterPlugin;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * response_format over real HTTP with the real engine on the bundled random model: whatever it
 * samples, the answer is an object (json_object) or validates against the schema (json_schema),
 * streamed or not, and ends by itself within max_tokens; what cannot be enforced is a 400 naming it.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResponseFormatIntegrationTest {

  static final String SCHEMA = """
      {"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},
       "mode":{"enum":["car","train"]},"stops":{"type":"array","items":{"type":["string","null"]},"maxItems":3}},
       "required":["city","days","mode","stops"],"additionalProperties":false}""";

  // trailing text after the value (a footer, say) must fail the parse, not be ignored
  private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private ChatHarness h;
  private ChatHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start(false).withEngine();
    t = h.tenant("formats");
  }

  private JsonObject ask(String question, Object responseFormat, double temperature, boolean stream) {
    JsonObject body = new JsonObject().put("temperature", temperature).put("max_tokens", 48).put("stream", stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", question)));
    if (responseFormat != null) {
      body.put("response_format", responseFormat);
    }
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), body.encode());
    if (resp.statusCode() != 200 || !stream) {
      return new JsonObject(resp.body()).put("status", resp.statusCode());
    }
    // streamed: the content deltas joined and the last finish_reason, in the non-streamed shape
    StringBuilder content = new StringBuilder();
    String finish = null;
    for (String line : resp.body().lines().filter(l -> l.startsWith("data: {")).toList()) {
      JsonArray choices = new JsonObject(line.substring(6)).getJsonArray("choices");
      if (choices == null || choices.isEmpty()) {
        continue; // the usage chunk
      }
      JsonObject choice = choices.getJsonObject(0);
      String piece = choice.getJsonObject("delta").getString("content");
      content.append(piece == null ? "" : piece);
      finish = choice.getString("finish_reason", finish);
    }
    return new JsonObject().put("status", 200).put("choices", new JsonArray().add(new JsonObject()
        .put("message", new JsonObject().put("content", content.toString())).put("finish_reason", finish)));
  }

  private static String content(JsonObject answer) {
    return answer.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  private static String finish(JsonObject answer) {
    return answer.getJsonArray("choices").getJsonObject(0).getString("finish_reason");
  }

  private static JsonObject schemaFormat(String schema) {
    return new JsonObject().put("type", "json_schema").put("json_schema",
        new JsonObject().put("name", "trip").put("strict", true).put("schema", new JsonObject(schema)));
  }

  @Test
  void jsonSchemaAnswersValidateStreamedOrNot() throws Exception {
    JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(SCHEMA);
    for (boolean stream : new boolean[] {false, true}) {
      for (int i = 0; i < 2; i++) {
        JsonObject a = ask("Plan trip " + i + (stream ? " live" : ""), schemaFormat(SCHEMA), 1.0, stream);
        assertThat(a.getInteger("status")).as(a.encode()).isEqualTo(200);
        assertThat(finish(a)).isEqualTo("stop");
        assertThat(validator.validate(json.readTree(content(a)))).as(content(a)).isEmpty();
      }
    }
  }

  @Test
  void jsonObjectAnswersAreObjectsAndTheAnswerCacheKeepsThemApart() throws Exception {
    // temperature 0, no history: complete answers are cached; a JSON one must not answer a free-text request
    for (boolean stream : new boolean[] {false, true}) {
      JsonObject a = ask("Name a colour.", new JsonObject().put("type", "json_object"), 0, stream);
      assertThat(a.getInteger("status")).as(a.encode()).isEqualTo(200);
      assertThat(finish(a)).isEqualTo("stop");
      assertThat(json.readTree(content(a)).isObject()).as(content(a)).isTrue();
    }
    JsonObject plain = ask("Name a colour.", new JsonObject().put("type", "text"), 0, false);
    assertThat(plain.getInteger("status")).isEqualTo(200);
    assertThat(plain.getJsonObject("usage").getInteger("completion_tokens")).as(plain.encode()).isPositive();
  }

  @Test
  void aWorkspaceFooterIsNotAddedToAJsonAnswer() throws Exception {
    ChatHarness.Tenant footed = h.tenant("formats-footer");
    h.execOwner("INSERT INTO plugin_configs (tenant_id, plugin, enabled, config) VALUES ('" + footed.id() + "', '"
        + AnswerFooterPlugin.NAME + "', true, '{\"footer\": \"Call us on 400-800-1234.\"}')");
    ChatHarness.Tenant before = t;
    t = footed;
    try {
      for (boolean stream : new boolean[] {false, true}) {
        JsonObject a = ask("Any news?", new JsonObject().put("type", "json_object"), 1.0, stream);
        assertThat(a.getInteger("status")).as(a.encode()).isEqualTo(200);
        assertThat(json.readTree(content(a)).isObject()).as(content(a)).isTrue();
      }
      assertThat(content(ask("Any news?", null, 1.0, false))).endsWith("Call us on 400-800-1234."); // free text: footed
    } finally {
      t = before;
    }
  }

  @Test
  void whatCannotBeEnforcedIsA400NamingIt() {
    JsonObject pattern = ask("x", schemaFormat("{\"type\":\"object\",\"properties\":{\"zip\":{\"type\":\"string\","
        + "\"pattern\":\"^[0-9]{5}$\"}},\"required\":[\"zip\"],\"additionalProperties\":false}"), 1.0, false);
    assertThat(pattern.getInteger("status")).isEqualTo(400);
    JsonObject error = pattern.getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("code")).isEqualTo("invalid_response_format");
    assertThat(error.getString("message")).contains("response_format.json_schema.schema").contains("'pattern'")
        .contains("#/properties/zip/pattern");
    JsonObject tooShort = ask("x", schemaFormat(SCHEMA), 1.0, false); // 48 tokens hold it; 3 do not
    assertThat(tooShort.getInteger("status")).isEqualTo(200);
    JsonObject body = new JsonObject().put("max_tokens", 3).put("response_format", schemaFormat(SCHEMA))
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "x")));
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), body.encode());
    assertThat(resp.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(resp.body()).getJsonObject("error").getString("code")).isEqualTo("invalid_max_tokens");
    for (Object bad : new Object[] {"json", new JsonObject().put("type", "xml"),
        new JsonObject().put("type", "json_schema").put("json_schema", new JsonObject().put("schema", new JsonObject()))}) {
      JsonObject a = ask("x", bad, 1.0, false);
      assertThat(a.getInteger("status")).as(String.valueOf(bad)).isEqualTo(400);
      assertThat(a.getJsonObject("error").getString("code")).isEqualTo("invalid_response_format");
    }
  }
}
