package ai.deepchat.chat;

import static ai.deepchat.platform.testing.Await.failure;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import ai.deepchat.canary.CanaryTestSupport;
import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.ModelRegistry.VersionSpec;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.gpu.worker.ServedAdapters;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A LoRA adapter as a model version: registered through the admin API as "base model key + adapter",
 * served by a real engine worker that loaded it from the model's adapters/ folder, and rolled out as
 * a canary through real /v1/chat/completions traffic against its base model.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdapterRolloutIntegrationTest {

  private ChatHarness h;
  private ChatHarness.Tenant tenant;
  private String adapter;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    // generous timeouts: the tiny model's first answers on a busy CI machine take seconds
    h = new ChatHarness(vertx).startWithCanary(Map.of("CHAT_REQUEST_TIMEOUT_MS", "15000",
        "CHAT_IDLE_TIMEOUT_MS", "15000"));
    tenant = h.tenant("lora-canary");
    adapter = tenant.id() + ".support";  // a tenant's adapters carry its id: no other tenant may serve them
    Path modelDir = TinyTestModel.ensure(h.platform.config().dataDir());
    TinyTestModel.writeAdapter(modelDir.resolve(ServedAdapters.FOLDER).resolve(adapter), 7L);
    // a broken adapter beside it is skipped: the worker still serves the base and the good adapter
    Path broken = Files.createDirectories(modelDir.resolve(ServedAdapters.FOLDER).resolve("broken"));
    Files.writeString(broken.resolve("adapter_config.json"), "{\"r\": 4,");
    h.withEngine();
  }

  private JsonObject complete(ChatHarness.Tenant t, String question) {
    HttpResponse<String> resp = h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject()
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", question)))
        .put("temperature", 0).put("max_tokens", 8).encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    return new JsonObject(resp.body());
  }

  private static String answer(JsonObject completion) {
    return completion.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
  }

  private JsonObject admin(ChatHarness.Tenant t, String path, JsonObject body, int status) {
    HttpResponse<String> resp = h.postJson(path, t.apiKey(), body.encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(status);
    return new JsonObject(resp.body());
  }

  @Test
  void anAdapterVersionTakesCanaryTrafficAndAnswersWithItsAdapter() throws Exception {
    ChatHarness.Tenant t = tenant;
    ModelVersion base = CanaryTestSupport.stable(h.canary, t.id(),
        CanaryTestSupport.local(h.canary, t.id(), "tiny-base", TinyTestModel.MODEL_KEY));
    JsonObject first = complete(t, "hello there");
    assertThat(first.getString("model")).isEqualTo("tiny-base");
    String baseAnswer = answer(first);

    String versions = "/v1/admin/model-versions";
    assertThat(admin(t, versions, new JsonObject().put("name", "bad").put("backend", "openai")
        .put("location", "https://models.example.com").put("adapter", adapter), 400).encode())
        .contains("adapter goes with the modelKey");
    assertThat(admin(t, versions, new JsonObject().put("name", "bad").put("modelKey", "tiny-test")
        .put("adapter", "no/such"), 400).encode()).contains("engine model key");
    ChatHarness.Tenant other = h.tenant("lora-other");
    assertThat(admin(other, versions, new JsonObject().put("name", "borrowed").put("modelKey", "tiny-test")
        .put("adapter", adapter), 400).encode()).contains("other adapters belong to other tenants");
    assertThat(failure(h.canary.registry().create(Scope.PLATFORM, new VersionSpec("platform-borrowed",
        Backend.LOCAL, "tiny-test+" + adapter, new JsonObject(), ""), CanaryTestSupport.ADMIN)).getMessage())
        .contains("may not serve a tenant's adapter");
    JsonObject version = admin(t, versions, new JsonObject().put("name", "tiny-support")
        .put("modelKey", TinyTestModel.MODEL_KEY).put("adapter", adapter), 201);
    assertThat(version.getString("location")).isEqualTo("tiny-test+" + adapter);
    assertThat(version.getString("adapter")).isEqualTo(adapter);
    String candidate = version.getString("id");

    admin(t, "/v1/admin/rollouts", new JsonObject().put("mode", "canary").put("candidateVersionId", candidate)
        .put("percentage", 100), 201);
    // the chooser routes to the candidate once the worker's announcement says it serves the adapter's key
    until("the adapter version answers", Duration.ofSeconds(15),
        () -> "tiny-support".equals(complete(t, "hello there").getString("model")));
    String adapterAnswer = answer(complete(t, "hello there"));
    assertThat(adapterAnswer).isNotBlank().isNotEqualTo(baseAnswer);
    assertThat(answer(complete(t, "hello there"))).isEqualTo(adapterAnswer);  // greedy: its own, every time
    assertThat(h.count("SELECT count(*) FROM messages WHERE role = 'assistant' AND model_version_id = '"
        + candidate + "'")).isGreaterThanOrEqualTo(3);
    assertThat(h.count("SELECT count(*) FROM messages WHERE role = 'assistant' AND model_version_id = '"
        + base.id() + "'")).isGreaterThanOrEqualTo(1);
  }
}
