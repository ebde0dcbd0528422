package ai.deepchat.chat.api;

import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.TopLogprob;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A streamed completion's delta chunk is written without a JSON tree (#25), byte for byte the chunk the
 * tree gave: every escape (quotes, backslashes, control chars, line separators), every text, both
 * reasoning names, log-probabilities and tool-call pieces.
 */
class DeltaChunkTest {

  private static final String PREFIX = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
      + "\"choices\":[{\"index\":0,\"delta\":";

  @Test
  void theChunkIsTheOneTheTreeGave() {
    List<String> texts = List.of("", " ok", "a \"quoted\" \\ back", "tab\tnew\nline\r\u0000\u001f\u007f",
        "中文 é ☃ 😀 \u2028\u2029 </script>", "{\"json\":[1,2]}");
    for (String c : texts) {
      for (String r : new String[] {null, "think \"it\"\n"}) {
        assertSame(TurnEvent.delta("t", c, r));
      }
      assertSame(TurnEvent.delta("t", null, c));
    }
    assertSame(TurnEvent.delta("t", null, null));
    assertSame(TurnEvent.delta("t", "x", null).withLogprobs(List.of(new TokenLogprob("x", -0.25, List.of(120),
        List.of(new TopLogprob("x", -0.25, List.of(120)))))));
    assertSame(new TurnEvent("t", TurnEvent.Kind.DELTA, "c", null, null, null, null, null, null, null, null, null, 0,
        null, List.of(new ToolCallDelta(0, "call_1", "lookup", "{\"q\":\"a\\\"b\"}")), null, 0));
  }

  private static void assertSame(TurnEvent event) {
    assertThat(DeltaChunk.sse(PREFIX, event)).as(String.valueOf(event)).isEqualTo(viaTree(event));
  }

  /** How the edge wrote a delta chunk before (ChatApiModule, fifth session). */
  private static String viaTree(TurnEvent event) {
    JsonObject delta = new JsonObject();
    if (event.content() != null) {
      delta.put("content", event.content());
    }
    if (event.reasoning() != null) {
      delta.put("reasoning_content", event.reasoning()).put("reasoning", event.reasoning());
    }
    if (event.toolCalls() != null && !event.toolCalls().isEmpty()) {
      delta.put("tool_calls", ToolCallJson.pieces(event.toolCalls()));
    }
    String logprobs = event.logprobs() == null || event.logprobs().isEmpty() ? ""
        : ",\"logprobs\":" + LogprobsJson.content(event.logprobs()).encode();
    return PREFIX + delta.encode() + logprobs + ",\"finish_reason\":null}]}\n\n";
  }
}
