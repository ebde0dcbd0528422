package ai.deepchat.chat;

import ai.deepchat.platform.embed.Vectors;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** /v1/embeddings over real HTTP and PostgreSQL with the real bge models, as the OpenAI SDKs call it. */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbeddingsApiIntegrationTest {

  private static final String ZH = "bge-small-zh-v1.5-q";

  ChatHarness h;
  ChatHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).start(false);
    t = h.tenant("embeddings-co");
  }

  private JsonObject embed(JsonObject body, int status) {
    var resp = h.postJson("/v1/embeddings", t.apiKey(), body.encode());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(status);
    return new JsonObject(resp.body());
  }

  @Test
  void embedsABatchInOrderWithUsageAndSimilarTextsCloser() {
    JsonObject out = embed(new JsonObject().put("model", ZH).put("input", new JsonArray()
        .add("忘记密码怎么办").add("密码忘了如何重置").add("今天天气晴朗")), 200);
    assertThat(out.getString("object")).isEqualTo("list");
    assertThat(out.getString("model")).isEqualTo(ZH);
    JsonArray data = out.getJsonArray("data");
    assertThat(data).hasSize(3);
    float[][] v = new float[3][];
    for (int i = 0; i < 3; i++) {
      JsonObject d = data.getJsonObject(i);
      assertThat(d.getInteger("index")).isEqualTo(i);
      JsonArray e = d.getJsonArray("embedding");
      assertThat(e).hasSize(512);
      v[i] = new float[e.size()];
      for (int j = 0; j < e.size(); j++) {
        v[i][j] = e.getFloat(j);
      }
    }
    // the same question in other words is closer than an unrelated sentence
    assertThat(Vectors.cosine(v[0], v[1])).isGreaterThan(Vectors.cosine(v[0], v[2]));
    int tokens = out.getJsonObject("usage").getInteger("prompt_tokens");
    assertThat(tokens).isGreaterThan(10);
    assertThat(out.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(tokens);
  }

  @Test
  void base64IsTheSameVectorAsLittleEndianFloats() {
    JsonObject floats = embed(new JsonObject().put("model", ZH).put("input", "退货政策"), 200);
    JsonObject packed = embed(new JsonObject().put("model", ZH).put("input", "退货政策").put("encoding_format", "base64"), 200);
    ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(packed.getJsonArray("data").getJsonObject(0)
        .getString("embedding"))).order(ByteOrder.LITTLE_ENDIAN);
    JsonArray expected = floats.getJsonArray("data").getJsonObject(0).getJsonArray("embedding");
    assertThat(bytes.remaining()).isEqualTo(expected.size() * 4);
    for (int i = 0; i < expected.size(); i++) {
      assertThat(bytes.getFloat()).isEqualTo(expected.getFloat(i));
    }
  }

  @Test
  void badInputIsA400NamingTheFieldAndAnUnknownModel404() {
    assertThat(embed(new JsonObject().put("model", ZH).put("input", "x").put("top_k", 3), 400)
        .getJsonObject("error").getString("message")).contains("top_k");
    assertThat(embed(new JsonObject().put("model", ZH).put("input", new JsonArray()), 400)
        .getJsonObject("error").getString("code")).isEqualTo("invalid_input");
    assertThat(embed(new JsonObject().put("model", ZH).put("input", new JsonArray().add("ok").add("\uFEFF")), 400)
        .getJsonObject("error").getString("message")).contains("input[1]");
    assertThat(embed(new JsonObject().put("model", ZH).put("input", new JsonArray().add("ok").add(42)), 400)
        .getJsonObject("error").getString("message")).contains("input[1]");
    assertThat(embed(new JsonObject().put("model", ZH).put("input", "x").put("dimensions", 256), 400)
        .getJsonObject("error").getString("code")).isEqualTo("invalid_dimensions");
    assertThat(embed(new JsonObject().put("model", ZH).put("input", "长".repeat(600)), 400)
        .getJsonObject("error").getString("code")).isEqualTo("input_too_long");
    assertThat(embed(new JsonObject().put("model", "text-embedding-3-small").put("input", "x"), 404)
        .getJsonObject("error").getString("code")).isEqualTo("model_not_found");
    var noKey = h.send(h.request("/v1/embeddings").header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(noKey.statusCode()).isEqualTo(401);
  }
}
