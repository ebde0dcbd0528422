package ai.deepchat.tokenizer.template;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.tokenizer.TokenizerConfig;
import ai.deepchat.tokenizer.tools.DeepSeekToolPrompt;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateSyntaxException;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;
import jinjava.javax.el.CompositeELResolver;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A HF chat template ({@code tokenizer_config.json}'s {@code chat_template}) rendered with Jinjava
 * configured like HF's jinja2 environment: {@code trim_blocks}, {@code lstrip_blocks}, loop controls,
 * {@code namespace}, {@code raise_exception}, Python-style {@code tojson} and Python str methods.
 * Thread-safe; render on a worker thread (a few hundred microseconds on a 2-vCPU VM).
 * Message content is data: Jinja syntax inside it is never evaluated.
 *
 * <p>Known gaps against jinja2 (checked with jinja2 3.1), none used by DeepSeek templates: loop
 * filters ({@code for x in xs if c}), {@code %}-formatting and repetition ({@code 'a' * 3}) of
 * strings, a nested dict literal (ending in two closing braces) inside an expression tag, and
 * printing {@code None}/{@code True} as "" and "true" where Python prints "None" and "True".
 */
public final class ChatTemplate {

  private static final Jinjava JINJAVA = createEngine();
  /**
   * Jinjava's own render copies its global context for every call, registering every built-in
   * filter, function and tag again by reflection, then parses the template: most of a render's time.
   * Each thread keeps one copy instead (reset after each render, as Jinjava resets its global one),
   * and each template its parsed tree per thread (trees are not documented as safe to share).
   */
  private static final ThreadLocal<Context> ROOT = ThreadLocal.withInitial(ChatTemplate::copyGlobalContext);

  private final ThreadLocal<Node> tree = new ThreadLocal<>();
  private final String template;
  private final Optional<String> bosToken;
  private final Optional<String> eosToken;
  private final String source;
  /** The template reads {@code tools} itself (Qwen2.5, Llama 3.1); DeepSeek's do not. */
  private final boolean rendersTools;

  private ChatTemplate(String template, Optional<String> bosToken, Optional<String> eosToken,
      String source) {
    this.rendersTools = DeepSeekToolPrompt.templateRendersTools(template);
    this.template = Jinja2Source.rewrite(template);
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.source = source;
  }

  /** A template from text; {@code source} names it in error messages. */
  public static ChatTemplate of(String template, Optional<String> bosToken,
      Optional<String> eosToken, String source) {
    return new ChatTemplate(template, bosToken, eosToken, source);
  }

  /** The template of a loaded config; fails when the model has none (a base model). */
  public static ChatTemplate fromConfig(TokenizerConfig config) {
    String text = config.chatTemplate().orElseThrow(() -> new ChatTemplateException(
        config.source() + " has no chat_template", false, null));
    return new ChatTemplate(text, config.bosToken(), config.eosToken(),
        "chat_template of " + config.source());
  }

  /** Reads the template from a model folder's {@code tokenizer_config.json}. */
  public static ChatTemplate load(Path modelDir) {
    return fromConfig(TokenizerConfig.load(modelDir));
  }

  public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt) {
    return render(messages, addGenerationPrompt, Map.of());
  }

  /**
   * Renders a conversation. {@code extra} adds template variables such as {@code tools}; it cannot
   * override {@code messages}, {@code add_generation_prompt} or the special tokens.
   *
   * @throws ChatTemplateException naming the template and Jinjava's (or the template's) message
   */
  public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
      Map<String, ?> extra) {
    Map<String, Object> context = new HashMap<>(extra);
    context.put("messages", messages);
    context.put("add_generation_prompt", addGenerationPrompt);
    bosToken.ifPresent(t -> context.put("bos_token", t));
    eosToken.ifPresent(t -> context.put("eos_token", t));
    Context root = ROOT.get();
    JinjavaConfig config = JINJAVA.getGlobalConfig();
    JinjavaInterpreter interpreter = config.getInterpreterFactory()
        .newInstance(JINJAVA, new Context(root, context, config.getDisabled()), config);
    JinjavaInterpreter.pushCurrent(interpreter);
    String output;
    List<TemplateError> errors;
    try {
      Node parsed = tree.get();
      if (parsed == null) {
        parsed = interpreter.parse(template);
        if (interpreter.getErrorsCopy().isEmpty()) {
          tree.set(parsed); // a template with syntax errors is parsed again each time, to report them
        }
      }
      output = interpreter.render(parsed);
      errors = interpreter.getErrorsCopy();
    } catch (TemplateSyntaxException e) {
      output = null;
      errors = List.of(TemplateError.fromException(e));
    } finally {
      root.reset();
      JinjavaInterpreter.popCurrent();
    }
    List<TemplateError> fatal = errors.stream()
        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
    if (!fatal.isEmpty()) {
      throw failure(fatal);
    }
    return output;
  }

  /** What Jinjava's render starts from: a root context holding the global context's libraries. */
  private static Context copyGlobalContext() {
    Context global = JINJAVA.getGlobalContext();
    Context copy = new Context(null, global);
    global.getAllExpTests().forEach(copy::registerExpTest);
    global.getAllFilters().forEach(copy::registerFilter);
    global.getAllFunctions().forEach(copy::registerFunction);
    global.getAllTags().forEach(copy::registerTag);
    return copy;
  }

  /** Renders the platform's chat messages without tools. */
  public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return renderChat(messages, addGenerationPrompt, List.of());
  }

  /**
   * Renders the platform's chat messages as OpenAI-shaped maps: an assistant message's tool calls as
   * {@code tool_calls} (its content none when it has no text, which is what DeepSeek's template tests
   * for), a tool result with its {@code tool_call_id}. {@code tools} (null or empty: none) go to the
   * template's {@code tools} variable when the template reads it, else into the system prompt in
   * DeepSeek's layout ({@link DeepSeekToolPrompt}).
   */
  public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, List<ToolSpec> tools) {
    List<Map<String, Object>> maps = new ArrayList<>(messages.size() + 1);
    for (ChatMessage m : messages) {
      maps.add(ChatMaps.of(m));
    }
    if (tools == null || tools.isEmpty()) {
      return render(maps, addGenerationPrompt);
    }
    List<Map<String, Object>> shaped = tools.stream().map(DeepSeekToolPrompt::openAiShape).toList();
    if (rendersTools) {
      return render(maps, addGenerationPrompt, Map.of("tools", shaped));
    }
    String section = DeepSeekToolPrompt.section(shaped.stream().map(t -> PyJson.dumps(t, null, false)).toList());
    ChatMaps.appendToSystemPrompt(maps, section);
    return render(maps, addGenerationPrompt);
  }

  public Optional<String> bosToken() {
    return bosToken;
  }

  public Optional<String> eosToken() {
    return eosToken;
  }

  private ChatTemplateException failure(List<TemplateError> errors) {
    for (TemplateError e : errors) {
      for (Throwable t = e.getException(); t != null; t = t.getCause()) {
        if (t instanceof TemplateRaised raised) {
          return new ChatTemplateException(
              source + " rejected the conversation: " + raised.getMessage(), true, raised);
        }
      }
    }
    String detail = errors.stream()
        .map(e -> "line " + e.getLineno() + ": " + e.getMessage()
            + (e.getFieldName() == null ? "" : " (in " + e.getFieldName() + ")"))
        .collect(Collectors.joining("; "));
    return new ChatTemplateException(source + " failed to render: " + detail, false,
        errors.get(0).getException());
  }

  private static Jinjava createEngine() {
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PyMethodResolver());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
    JinjavaConfig config = JinjavaConfig.newBuilder()
        // Jinjava 2.x re-renders strings that look like templates, message content included: a user
        // writing "{{ ... }}" would run code in the worker. jinja2 never does; off.
        .withNestedInterpretationEnabled(false)
        // trim_blocks and lstrip_blocks are applied by Jinja2Source, jinja2's way.
        .withElResolver(resolver)
        .withLegacyOverrides(LegacyOverrides.newBuilder()
            .withParseWhitespaceControlStrictly(true)
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build())
        .build();
    Jinjava jinjava = new Jinjava(config);
    jinjava.getGlobalContext().registerFilter(new PyJson());
    try {
      Method raise = TemplateRaised.class.getMethod("raise", Object.class);
      raise.setAccessible(true);
      jinjava.getGlobalContext()
          .registerFunction(new ELFunctionDefinition("", "raise_exception", raise));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
    return jinjava;
  }
}
