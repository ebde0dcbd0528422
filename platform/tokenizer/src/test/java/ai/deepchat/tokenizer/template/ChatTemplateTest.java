package ai.deepchat.tokenizer.template;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.Golden;
import ai.deepchat.tokenizer.TokenizerConfig;
import ai.deepchat.tokenizer.TokenizerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatTemplateTest {

  private static final String BOS = "<B>";
  private static final String EOS = "<E>";

  private static String render(String template, List<Map<String, Object>> messages, boolean gen) {
    return ChatTemplate.of(template, Optional.of(BOS), Optional.of(EOS), "test template")
        .render(messages, gen);
  }

  private static String render(String template) {
    return render(template, List.of(), false);
  }

  private static Map<String, Object> msg(String role, String content) {
    Map<String, Object> m = new HashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }

  @Test
  void deepSeekV3TemplateRendersEveryGoldenChatLikeHf() {
    Golden golden = Golden.deepSeekV3();
    ChatTemplate template = ChatTemplate.load(Golden.deepSeekV3Dir());
    try (DeepSeekTokenizer tokenizer = DeepSeekTokenizer.load(Golden.deepSeekV3Dir())) {
      for (Golden.Chat chat : golden.chats()) {
        String rendered = template.render(chat.messages(), chat.addGenerationPrompt());
        assertThat(rendered).isEqualTo(chat.rendered());
        assertThat(tokenizer.encode(rendered, false)).containsExactly(chat.ids());
      }
    }
  }

  /** Renders reuse a per-thread copy of Jinjava's context and parsed tree: nothing may leak between them. */
  @Test
  void oneTemplateRendersAlikeAgainOnManyThreadsAfterFailures() throws Exception {
    Golden golden = Golden.deepSeekV3();
    ChatTemplate template = ChatTemplate.load(Golden.deepSeekV3Dir());
    String t = "{% set ns = namespace(n=0) %}{% for m in messages %}{% if m.role == 'tool' %}"
        + "{{ raise_exception('no tools') }}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}";
    ChatTemplate counting = ChatTemplate.of(t, Optional.empty(), Optional.empty(), "counting");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
      for (int w = 0; w < 4; w++) {
        runs.add(pool.submit(() -> {
          for (int round = 0; round < 25; round++) {
            for (Golden.Chat chat : golden.chats()) {
              assertThat(template.render(chat.messages(), chat.addGenerationPrompt())).isEqualTo(chat.rendered());
            }
            assertThatThrownBy(() -> counting.render(List.of(msg("user", "a"), msg("tool", "r")), false))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("no tools");
            assertThat(counting.render(List.of(msg("user", "a"), msg("assistant", "b")), false)).isEqualTo("2");
          }
          return null;
        }));
      }
      for (var run : runs) {
        run.get(60, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void platformMessagesRenderLikeMaps() {
    Golden.Chat chat = Golden.deepSeekV3().chats().get(2);
    List<ChatMessage> messages = chat.messages().stream()
        .map(m -> new ChatMessage((String) m.get("role"), (String) m.get("content"))).toList();
    assertThat(ChatTemplate.load(Golden.deepSeekV3Dir()).renderChat(messages, true))
        .isEqualTo(chat.rendered());
  }

  @Test
  void messageContentIsNeverInterpretedAsTemplate() {
    String content = "{{ 7 * 7 }} {% if true %}X{% endif %} {# c #} {{ raise_exception('x') }}";
    String rendered = ChatTemplate.load(Golden.deepSeekV3Dir())
        .render(List.of(msg("user", content)), false);
    assertThat(rendered).contains(content);
  }

  @Test
  void withoutGenerationPromptTheAssistantMarkerIsNotAppended() {
    ChatTemplate template = ChatTemplate.load(Golden.deepSeekV3Dir());
    Golden.Chat chat = Golden.deepSeekV3().chats().get(0);
    String withPrompt = template.render(chat.messages(), true);
    String without = template.render(chat.messages(), false);
    assertThat(withPrompt).startsWith(without);
    assertThat(withPrompt.substring(without.length())).isEqualTo("<｜Assistant｜>");
  }

  /** The constructs of DeepSeek-R1's template, on an R1-shaped template written for this test. */
  @Test
  void r1StyleTemplateDropsPreviousReasoningAndOpensThinking() {
    String r1Style = "{% if not add_generation_prompt is defined %}"
        + "{% set add_generation_prompt = false %}{% endif %}"
        + "{% set ns = namespace(system_prompt='', is_first_sp=true) %}"
        + "{%- for message in messages %}{%- if message['role'] == 'system' %}"
        + "{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}"
        + "{% set ns.is_first_sp = false %}{%- else %}"
        + "{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}"
        + "{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}"
        + "{%- for message in messages %}"
        + "{%- if message['role'] == 'user' %}{{'<U>' + message['content']}}{%- endif %}"
        + "{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}"
        + "{% set content = message['content'] %}"
        + "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
        + "{{'<A>' + content + eos_token}}{%- endif %}"
        + "{%- endfor -%}"
        + "{% if add_generation_prompt %}{{'<A><think>\\n'}}{% endif %}";
    List<Map<String, Object>> messages = List.of(
        msg("system", "S1"), msg("system", "S2"), msg("user", "hi"),
        msg("assistant", "<think>\nplan\n</think>\n\nHello"),
        msg("user", "more"), msg("assistant", "<think>only thinking</think>"),
        msg("user", "again"));
    // Python: 'x</think>'.split('</think>')[-1] == '' (Java's split would keep 'x').
    assertThat(render(r1Style, messages, true)).isEqualTo(
        "<B>S1\n\nS2<U>hi<A>\n\nHello<E><U>more<A><E><U>again<A><think>\n");
  }

  @Test
  void pythonStringEscapesInLiteralsAreDecodedLikeJinja2() {
    assertThat(render("{{ 'a\\nb\\tc' }}")).isEqualTo("a\nb\tc");
    assertThat(render("{{ \"q\\\"d\" ~ 'it\\'s' ~ 'back\\\\slash' }}"))
        .isEqualTo("q\"dit'sback\\slash");
    assertThat(render("{{ '\\u4f60\\x41\\101' }}")).isEqualTo("你AA");
    // Python keeps unknown escapes verbatim.
    assertThat(render("{{ '\\d' }}")).isEqualTo("\\d");
    // Outside tags, backslashes are plain text.
    assertThat(render("a\\nb{# '\\n' #}")).isEqualTo("a\\nb");
    assertThat(render("{% raw %}{{ '\\n' }}{% endraw %}")).isEqualTo("{{ '\\n' }}");
    // In a {% %} tag a dict literal may end in "}}" (in {{ }} Jinjava's scanner would stop there).
    assertThat(render("{% set d = {'k': {'v': 'x\\ny'}} %}{{ d['k']['v'] }}")).isEqualTo("x\ny");
  }

  @Test
  void trimAndLstripBlocksMatchHfEnvironment() {
    // jinja2 with trim_blocks + lstrip_blocks: block lines vanish entirely, expressions keep indent.
    String t = "  {% if true %}\n  x\n  {% endif %}\n  {{ 'y' }}\n{%- if true -%}\n  z  {% endif %}";
    assertThat(render(t)).isEqualTo("  x\n  yz  ");
    // A line whose newline trim_blocks ate still starts a line for lstrip (as in jinja2 3.1).
    String multiline = "{% for m in messages %}\n  {% if m.role == 'user' %}\nU: {{ m.content }}\n"
        + "  {% else %}\n    B: {{ m.content }}   {# note #}\n  {% endif %}\n{% endfor %}";
    assertThat(render(multiline, List.of(msg("user", "hi"), msg("assistant", "yo")), false))
        .isEqualTo("U: hi\n    B: yo   ");
    // Comments too; "+" opts a tag out of both.
    assertThat(render("a\n  {# c #}\nb\n  {%+ if true +%}\nc{% endif %}")).isEqualTo("a\nb\n  \nc");
    assertThat(render("{% raw %}\n {{ x }}{% endraw %}")).isEqualTo("\n {{ x }}");
  }

  @Test
  void loopControlsAndLoopVariables() {
    assertThat(render("{% for i in range(6) %}{% if i == 1 %}{% continue %}{% endif %}"
        + "{% if i == 4 %}{% break %}{% endif %}{{ i }}{% if not loop.last %},{% endif %}"
        + "{% endfor %}")).isEqualTo("0,2,3,");
    assertThat(render("{% for m in messages %}{{ loop.index0 }}{{ m.role }}"
        + "{% if loop.first %}F{% endif %}{% endfor %}",
        List.of(msg("user", "a"), msg("assistant", "b")), false))
        .isEqualTo("0userF1assistant");
  }

  @Test
  void pythonStringMethods() {
    assertThat(render("{{ 'a,b,,c,'.split(',') | tojson }}"))
        .isEqualTo("[\"a\", \"b\", \"\", \"c\", \"\"]");
    assertThat(render("{{ '  a  b '.split() | tojson }}")).isEqualTo("[\"a\", \"b\"]");
    assertThat(render("{{ 'a.b.c'.split('.', 1) | tojson }}")).isEqualTo("[\"a\", \"b.c\"]");
    assertThat(render("{{ 'a.b.c'.rsplit('.', 1) | tojson }}")).isEqualTo("[\"a.b\", \"c\"]");
    assertThat(render("{{ 'a|b'.split('|')[-1] }}")).isEqualTo("b");
    assertThat(render("{{ 'x</think>'.split('</think>')[-1] }}|")).isEqualTo("|");
    assertThat(render("{{ '<think>x'.startswith('<think>') }} {{ 'ab'.endswith(('z', 'b')) }}"))
        .isEqualTo("true true");
    assertThat(render("{{ ' \\n x \\t'.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}"
        + "|{{ 'a\\n\\n'.rstrip() }}|")).isEqualTo("x|a|a|a|");
    assertThat(render("{{ 'AbC'.lower() }}{{ 'AbC'.upper() }}{{ 'hello world'.title() }}"))
        .isEqualTo("abcABCHello World");
    assertThat(render("{{ 'aaa'.replace('a', 'b', 2) }}{{ ', '.join(['x', 'y']) }}"))
        .isEqualTo("bbax, y");
    assertThat(render("{{ {'a': 1}.get('b', 'dflt') }}{{ {'a': 1}.get('a') }}"))
        .isEqualTo("dflt1");
  }

  @Test
  void tojsonWritesPythonJsonDumps() {
    Map<String, Object> tool = new java.util.LinkedHashMap<>();
    tool.put("name", "get_weather");
    tool.put("desc", "天气 \"now\"\n");
    tool.put("args", List.of(1, 2.5, true));
    tool.put("none", null);
    tool.put("empty", Map.of());
    String rendered = ChatTemplate.of("{{ tools[0] | tojson }}|{{ tools[0].args | tojson(indent=2) }}",
        Optional.empty(), Optional.empty(), "t").render(List.of(), false, Map.of("tools", List.of(tool)));
    assertThat(rendered).isEqualTo("{\"name\": \"get_weather\", \"desc\": \"天气 \\\"now\\\"\\n\", "
        + "\"args\": [1, 2.5, true], \"none\": null, \"empty\": {}}|[\n  1,\n  2.5,\n  true\n]");
    assertThat(PyJson.pyFloat(1e-5)).isEqualTo("1e-05");
    assertThat(PyJson.pyFloat(1.5e20)).isEqualTo("1.5e+20");
    assertThat(PyJson.pyFloat(100.0)).isEqualTo("100.0");
    assertThat(PyJson.pyFloat(0.001)).isEqualTo("0.001");
  }

  @Test
  void raiseExceptionReportsTheTemplatesMessage() {
    String t = "{% for m in messages %}{% if m.role == 'tool' %}"
        + "{{ raise_exception('Tool messages are not supported by this model') }}"
        + "{% endif %}{% endfor %}ok";
    assertThat(render(t, List.of(msg("user", "a")), false)).isEqualTo("ok");
    assertThatThrownBy(() -> render(t, List.of(msg("tool", "r")), false))
        .isInstanceOfSatisfying(ChatTemplateException.class,
            e -> assertThat(e.raisedByTemplate()).isTrue())
        .hasMessageContaining("test template")
        .hasMessageContaining("Tool messages are not supported by this model");
  }

  @Test
  void brokenTemplateFailsNamingTheTemplate() {
    assertThatThrownBy(() -> render("{{ messages[0].content.nosuchmethod() }}",
        List.of(msg("user", "a")), false))
        .isInstanceOfSatisfying(ChatTemplateException.class,
            e -> assertThat(e.raisedByTemplate()).isFalse())
        .hasMessageContaining("test template failed to render")
        .hasMessageContaining("nosuchmethod");
    assertThatThrownBy(() -> render("{% if true %}unclosed"))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining("test template");
  }

  @Test
  void configWithoutTemplateOrBrokenConfigIsReportedByFile(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
    assertThatThrownBy(() -> ChatTemplate.load(dir))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining("has no chat_template");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": ");
    assertThatThrownBy(() -> ChatTemplate.load(dir))
        .isInstanceOf(TokenizerException.class)
        .hasMessageContaining("tokenizer_config.json is not valid JSON");
    Files.delete(dir.resolve("tokenizer_config.json"));
    assertThatThrownBy(() -> ChatTemplate.load(dir))
        .isInstanceOf(TokenizerException.class)
        .hasMessageContaining("tokenizer_config.json not found");
  }

  @Test
  void namedTemplateListPicksDefault(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", "
        + "\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, "
        + "{\"name\": \"default\", \"template\": \"{{ bos_token }}D\"}]}");
    TokenizerConfig config = TokenizerConfig.load(dir);
    assertThat(ChatTemplate.fromConfig(config).render(List.of(), false)).isEqualTo("<s>D");
  }
}
