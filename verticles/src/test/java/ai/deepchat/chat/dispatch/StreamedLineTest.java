package ai.deepchat.chat.dispatch;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The streamed line's fast path (#25) reads the common text delta without a JSON tree, and hands every
 * other line to the general path (null): whatever it reads, it reads as the tree does.
 */
class StreamedLineTest {

  @Test
  void theCommonShapesAreReadWithoutATree() {
    assertThat(read("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ok\"},\"finish_reason\":null}]}"))
        .isEqualTo(text(" ok", null, null));
    assertThat(read("data:{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\\\"é\\u4e2d\\n\"}}]}\r"))
        .isEqualTo(text("\"é中\n", null, null));
    assertThat(read("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":null}"))
        .isEqualTo(text(null, null, "length"));
    assertThat(read("data: {\"choices\":[]}")).isEqualTo(text(null, null, null));
    assertThat(read("data: {\"choices\":[{\"delta\":{\"content\":null,\"reasoning_content\":\"think\"},"
        + "\"logprobs\":null}]}")).isEqualTo(text(null, "think", null));
    assertThat(read("data: {\"choices\":[{\"delta\":{\"reasoning\":\"vllm\"}}]}")).isEqualTo(text(null, "vllm", null));
  }

  @Test
  void endsCommentsAndBlankLinesAreRecognised() {
    assertThat(read("data: [DONE]")).isSameAs(StreamedLine.DONE);
    assertThat(read("  data:[DONE]  \r")).isSameAs(StreamedLine.DONE);
    assertThat(read(": keep-alive")).isSameAs(StreamedLine.SKIP);
    assertThat(read("")).isSameAs(StreamedLine.SKIP);
    assertThat(read("event: message")).isSameAs(StreamedLine.SKIP);
  }

  @Test
  void everyOtherLineGoesToTheGeneralPath() {
    for (String line : List.of(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\"}}]}}]}",
        "data: {\"choices\":[{\"delta\":{\"function_call\":{\"name\":\"f\"}}}]}",
        // a call the general path must see even in a string (it is dropped there, logged and counted)
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"function_call\":\"f\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"logprobs\":{\"content\":[]}}]}",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5}}",
        "data: {\"error\":{\"message\":\"overloaded\"}}",
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}},{\"delta\":{\"content\":\"b\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":5}}]}",
        "data: {\"choices\":[{\"delta\":null}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":7}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]} trailing",
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"",
        "data: not json",
        "data: {\"choices\":{}}",
        "\u2003data: {\"choices\":[]}")) {
      assertThat(read(line)).as(line).isNull();
    }
  }

  @Test
  void whatItReadsTheTreeReadsAlike() {
    for (String line : List.of(
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\",\"reasoning_content\":null,\"reasoning\":\"r\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"reasoning\":\"r\",\"reasoning_content\":\"rc\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"},\"finish_reason\":\"stop\"}]}",
        "data: {\"system_fingerprint\":\"fp\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}],\"usage\":null}")) {
      JsonObject tree = new JsonObject(line.substring(5).strip());
      JsonObject choice = tree.getJsonArray("choices").getJsonObject(0);
      JsonObject delta = choice.getJsonObject("delta");
      // the general path's reading (OpenAiHttpBackend): reasoning_content when present, else reasoning
      assertThat(read(line)).as(line).isEqualTo(text(delta.getString("content"),
          delta.getString("reasoning_content", delta.getString("reasoning")), choice.getString("finish_reason")));
    }
  }

  private static StreamedLine.Read read(String line) {
    return StreamedLine.read(Buffer.buffer(line));
  }

  private static StreamedLine.Read text(String content, String reasoning, String finish) {
    return new StreamedLine.Read(StreamedLine.Kind.TEXT, content, reasoning, finish);
  }

  @Test
  void aStreamsReaderReadsEveryLineAsTheParserDoes() {
    // #25: lines made of the last text delta's bytes around another plain string are read by comparing
    // bytes; every line, modelled or not, must read exactly as StreamedLine.read reads it
    java.util.Random random = new java.util.Random(25);
    String[] envelopes = {
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":null}]}",
        "data:{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":%s},\"logprobs\":null}]}\r",
        "data: {\"choices\":[{\"delta\":{\"content\":%s,\"content\":\"twice\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":%s},\"finish_reason\":\"stop\"}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":%s,\"reasoning_content\":\"r\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":%s}}],\"usage\":{\"prompt_tokens\":1}}",
        "  data: {\"choices\":[{\"delta\":{\"content\":%s}}]}  "};
    String[] texts = {" ok", "", "a\\\"b", "\\n", "\\u4e2d", "é中", "x\"y", "tab\there", "[DONE]", "\u007f", "  spaced  "};
    StreamedLine.Reader reader = new StreamedLine.Reader();
    for (int i = 0; i < 5_000; i++) {
      String envelope = envelopes[random.nextInt(4) == 0 ? random.nextInt(envelopes.length) : 0];
      String text = random.nextBoolean() ? texts[random.nextInt(texts.length)] : "w" + random.nextInt(1000);
      String line = envelope.formatted("\"" + text + "\"");
      if (random.nextInt(50) == 0) {
        line = line.substring(0, random.nextInt(line.length())); // cut short
      } else if (random.nextInt(3) == 0) {
        line = random.nextBoolean() ? "" : ": keep-alive"; // the blank line after an event, a comment
      }
      byte[] b = ("xx" + line + "yy").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      int to = b.length - 2;
      assertThat(reader.read(b, 2, to)).as(line).isEqualTo(StreamedLine.read(b, 2, to));
    }
    assertThat(reader.modelledReads()).isGreaterThan(1_500); // most text deltas were read by the model
  }
}
