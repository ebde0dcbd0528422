package ai.deepchat.chat.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The opening and finish chunks written as text are the bytes the envelope's JSON tree encoded to. */
class ChoiceChunksTest {

  /** How the stream built these chunks before: a copy of the envelope with the choice, encoded. */
  private static String encoded(JsonObject envelope, int index, JsonObject delta, String finishReason) {
    return "data: " + envelope.copy()
        .put("choices", new JsonArray().add(new JsonObject().put("index", index).put("delta", delta)
            .put("finish_reason", finishReason)))
        .encode() + "\n\n";
  }

  /** The stream's prefix, as ChatApiModule.streamAnswer makes it once per stream. */
  private static String prefix(JsonObject envelope) {
    String e = envelope.encode();
    return "data: " + e.substring(0, e.length() - 1) + ",\"choices\":[{\"index\":";
  }

  @Test
  void theOpeningAndFinishChunksAreTheEncodedEnvelopesBytes() {
    for (String model : Arrays.asList("deepseek-chat", "mod\"el\\ é 模型 \u0001", "")) {
      JsonObject envelope = new JsonObject().put("id", "chatcmpl-6f1c").put("object", "chat.completion.chunk")
          .put("created", 1_765_000_000L).put("model", model).put("conversation_id", "c0ffee");
      for (int index : new int[] {0, 1, 12}) {
        String choicePrefix = prefix(envelope) + index;
        assertThat(ChoiceChunks.opening(choicePrefix))
            .isEqualTo(encoded(envelope, index, new JsonObject().put("role", "assistant").put("content", ""), null));
        for (String reason : Arrays.asList("stop", "length", "tool_calls", "content_filter", null, "",
            "we\"ird\\ \n reason 理由 \u001f")) {
          assertThat(ChoiceChunks.finish(choicePrefix, reason))
              .isEqualTo(encoded(envelope, index, new JsonObject(), reason));
        }
      }
    }
  }
}
