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

  /**
   * A stream's chunks as bytes in one reused array (#25): every event's bytes are those of its chunk's text in
   * UTF-8, whatever came before it in the array (longer chunks, escapes, surrogates, non-ASCII, tool calls,
   * log-probabilities, keep-alives). Fails if a text is written unescaped or a stale byte is left.
   */
  @Test
  void aStreamsChunkBytesAreItsChunkInUtf8() {
    java.util.Random random = new java.util.Random(25);
    String alphabet = "ab z~\u007f\"\\\n\t\u0000\u001fé中☃\u2028\ud83d\ude00\ud800";
    DeltaChunk.Bytes bytes = new DeltaChunk.Bytes(PREFIX);
    for (int i = 0; i < 20_000; i++) {
      TurnEvent event = switch (random.nextInt(12)) {
        case 0 -> TurnEvent.delta("t", null, null);
        case 1 -> TurnEvent.delta("t", "x", null).withLogprobs(List.of(new TokenLogprob("x", -0.5, List.of(120),
            List.of())));
        case 2 -> new TurnEvent("t", TurnEvent.Kind.DELTA, null, null, null, null, null, null, null, null, null, null,
            0, null, List.of(new ToolCallDelta(0, "call_1", "f", "{}")), null, 0);
        default -> TurnEvent.delta("t", random.nextInt(4) == 0 ? null : text(random, alphabet),
            random.nextInt(3) == 0 ? text(random, alphabet) : null);
      };
      byte[] expected = DeltaChunk.sse(PREFIX, event).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] got = java.util.Arrays.copyOf(bytes.encode(event), bytes.length());
      assertThat(got).as(String.valueOf(event)).isEqualTo(expected);
    }
  }

  /** Mostly plain words of any length (the common delta), sometimes with any character of {@code alphabet}. */
  private static String text(java.util.Random random, String alphabet) {
    StringBuilder sb = new StringBuilder();
    int n = random.nextInt(random.nextInt(10) == 0 ? 400 : 12);
    boolean plain = random.nextBoolean();
    for (int i = 0; i < n; i++) {
      sb.append(plain ? (char) ('a' + random.nextInt(26)) : alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
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
