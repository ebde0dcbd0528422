package ai.deepchat.policy.plugin.footer;

import ai.deepchat.policy.plugin.PluginContext;
import ai.deepchat.policy.plugin.PostResult;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AnswerFooterPluginTest {

  final AnswerFooterPlugin plugin = new AnswerFooterPlugin();

  PostResult post(String footer, String answer) {
    PluginContext ctx = new PluginContext(null, UUID.randomUUID(), new JsonObject().put("footer", footer), null);
    return plugin.postProcess(ctx, "q", answer).result();
  }

  @Test
  void appendsTheFooterAfterABlankLineOnce() {
    assertThat(post("  Call **400-123** or see [help](https://help.example.com)\n", "The answer."))
        .isEqualTo(PostResult.append("\n\nCall **400-123** or see [help](https://help.example.com)"));
    assertThat(post("Call us.", "")).isEqualTo(PostResult.append("Call us."));
    // the model copied the footer from an earlier turn: no second one
    assertThat(post("Call us.", "The answer.\n\nCall us.\n")).isEqualTo(PostResult.keep());
  }

  @Test
  void invalidFootersAreExplained() {
    for (JsonObject bad : new JsonObject[] {new JsonObject(), new JsonObject().put("footer", "  "),
        new JsonObject().put("footer", 42), new JsonObject().put("footer", "x".repeat(501)),
        new JsonObject().put("footer", "<script>alert(1)</script>"), new JsonObject().put("footer", "a <b>bold</b> one"),
        new JsonObject().put("footer", "bell\u0007")}) {
      assertThatThrownBy(() -> plugin.validateConfig(bad)).as(bad.encode())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("footer");
    }
    plugin.validateConfig(new JsonObject().put("footer", "1 < 2 and 3 > 2, 中文也可以。\n- a list"));
    plugin.validateConfig(new JsonObject().put("footer", "x".repeat(500)));
  }
}
