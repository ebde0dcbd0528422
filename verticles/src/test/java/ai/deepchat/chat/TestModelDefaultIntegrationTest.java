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

import static org.assertj.core.api.Assertions.assertThat;

/** With neither MODEL_DIR nor DEEPSEEK_API_KEY, the bundled test model answers, and every client is told so. */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TestModelDefaultIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start(false);
    t = h.tenant("fresh-install");
  }

  @Test
  void modelsAndWidgetConfigSayItIsATestModel() {
    HttpResponse<String> models = h.send(h.request("/v1/models").header("Authorization", "Bearer " + t.apiKey()));
    JsonObject only = new JsonObject(models.body()).getJsonArray("data").getJsonObject(0);
    assertThat(only.getString("id")).isEqualTo("tiny-test");
    assertThat(only.getBoolean("test_model")).isTrue();
    assertThat(only.getString("notice")).contains("test model").contains("DEEPSEEK_API_KEY");
    HttpResponse<String> config = h.send(h.request("/widget/config?key=" + t.widgetKey()).header("Origin", t.origin()));
    JsonObject cfg = new JsonObject(config.body());
    assertThat(cfg.getBoolean("testModel")).isTrue();
    assertThat(cfg.getString("notice")).contains("MODEL_DIR");
  }

  @Test
  void withNoEngineWorkerRunningTheAnswerFailsCleanlyAndTheTurnIsKept() {
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject().put("messages",
        new JsonArray().add(new JsonObject().put("role", "user").put("content", "anyone there?"))).encode());
    assertThat(resp.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(resp.body()).getJsonObject("error").getString("code")).isEqualTo("backend_unavailable");
    assertThat(h.string("SELECT status FROM messages WHERE role = 'assistant' AND tenant_id = '" + t.id() + "'"))
        .isEqualTo("interrupted");
    assertThat(h.count("SELECT count(*) FROM messages WHERE role = 'user' AND tenant_id = '" + t.id() + "'")).isEqualTo(1);
  }

  @Test
  void deepseekChatNamesTheDefaultOnAFreshInstallAsTheDocsFirstExampleSends() {
    HttpResponse<String> model = h.send(h.request("/v1/models/deepseek-chat").header("Authorization", "Bearer " + t.apiKey()));
    assertThat(model.statusCode()).as(model.body()).isEqualTo(200);
    assertThat(new JsonObject(model.body()).getBoolean("test_model")).isTrue();
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject().put("model", "deepseek-chat")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello"))).encode());
    // the default (the test model) is chosen; here no engine worker runs it, so the answer is 503, not 404
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(503);
    assertThat(new JsonObject(resp.body()).getJsonObject("error").getString("code")).isEqualTo("backend_unavailable");
    HttpResponse<String> other = h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject().put("model", "deepseek-chatty")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello"))).encode());
    assertThat(other.statusCode()).isEqualTo(404);
  }
}
