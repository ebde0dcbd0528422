package ai.deepchat.tokenizer.template;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.tokenizer.Golden;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Conversations with tool definitions, tool calls (single, parallel, over several rounds) and tool
 * results, rendered by {@link ChatTemplate#renderChat} from the platform's messages (DeepSeek-V3's
 * template, which gets the definitions in its system prompt, and one that reads {@code tools}), against real
 * Jinja2 in Hugging Face's apply_chat_template environment (templates/golden-chats.json, written by
 * platform/tokenizer/scripts/render_chat_templates.py).
 */
class ChatTemplateGoldenTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, ChatTemplate> TEMPLATES = Map.of(
      "deepseek-v3", ChatTemplate.load(Golden.deepSeekV3Dir()),
      "tools-variable", ChatTemplate.of(resource("/templates/tools-variable.jinja"), Optional.empty(), Optional.empty(),
          "tools-variable.jinja"));

  private static String resource(String name) {
    try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @TestFactory
  List<DynamicTest> everyConversationRendersAsJinja2Does() throws IOException {
    JsonNode golden;
    try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/templates/golden-chats.json")) {
      golden = JSON.readTree(in);
    }
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : golden.get("cases")) {
      String name = c.get("template").asText() + " " + c.get("name").asText()
          + (c.get("add_generation_prompt").asBoolean() ? " +generation prompt" : "");
      tests.add(DynamicTest.dynamicTest(name, () -> {
        ChatTemplate template = TEMPLATES.get(c.get("template").asText());
        String rendered = template.renderChat(messages(c.get("messages")),
            c.get("add_generation_prompt").asBoolean(), tools(c.get("tools")));
        assertThat(rendered).isEqualTo(c.get("rendered").asText());
      }));
    }
    assertThat(tests).hasSizeGreaterThanOrEqualTo(36);
    return tests;
  }

  /** OpenAI-shaped messages as the API turns them into the platform's. */
  private static List<ChatMessage> messages(JsonNode array) {
    List<ChatMessage> out = new ArrayList<>();
    for (JsonNode m : array) {
      List<ToolCall> calls = null;
      if (m.hasNonNull("tool_calls")) {
        calls = new ArrayList<>();
        for (JsonNode call : m.get("tool_calls")) {
          calls.add(new ToolCall(call.get("id").asText(), call.get("function").get("name").asText(),
              call.get("function").get("arguments").asText()));
        }
      }
      out.add(new ChatMessage(m.get("role").asText(), m.hasNonNull("content") ? m.get("content").asText() : "",
          calls, m.hasNonNull("tool_call_id") ? m.get("tool_call_id").asText() : null));
    }
    return out;
  }

  private static List<ToolSpec> tools(JsonNode array) {
    List<ToolSpec> out = new ArrayList<>();
    if (array == null || array.isNull()) {
      return out;
    }
    for (JsonNode t : array) {
      JsonNode f = t.get("function");
      out.add(new ToolSpec(f.get("name").asText(), f.hasNonNull("description") ? f.get("description").asText() : null,
          f.has("parameters") ? f.get("parameters").toString() : null));
    }
    return out;
  }
}
