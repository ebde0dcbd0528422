package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.Engine;
import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.engine.TokenConstraint;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.TokenizerRegistry;
import ai.deepchat.tokenizer.template.ChatTemplate;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * One model as a worker serves it: the native engine, the tokenizer and the chat template of one
 * Hugging Face folder. Loading and prompt rendering block; callers run them on worker threads.
 */
public final class ServedModel implements AutoCloseable {

  /** A rendered prompt: the text (for the reasoning splitter) and its token ids. */
  public record Prompt(String text, int[] tokens) {
  }

  private final String modelKey;
  private final Engine engine;
  private final DeepSeekTokenizer tokenizer;
  private final ChatTemplate template;
  private final int[] stopTokenIds;
  private final Path modelDir;
  private TokenPieces pieces; // read from tokenizer.json on the first request for log-probabilities

  private final ConstrainedOutput constrained;

  private ServedModel(String modelKey, Path modelDir, Engine engine, DeepSeekTokenizer tokenizer,
                      ChatTemplate template) {
    this.modelKey = modelKey;
    this.modelDir = modelDir;
    this.constrained = new ConstrainedOutput(modelDir.resolve(DeepSeekTokenizer.FILE_NAME), engine.info().vocabSize());
    this.engine = engine;
    this.tokenizer = tokenizer;
    this.template = template;
    IntStream eos = Arrays.stream(engine.info().eosTokenIds());
    if (tokenizer.eosTokenId().isPresent()) {
      eos = IntStream.concat(eos, IntStream.of(tokenizer.eosTokenId().getAsInt()));
    }
    this.stopTokenIds = eos.distinct().toArray();
  }

  public static ServedModel load(String modelKey, Path modelDir, EngineOptions options) {
    // shared with the pipeline's token counter on a one-JVM node (the same tokenizer.json)
    DeepSeekTokenizer tokenizer = TokenizerRegistry.acquire(modelDir);
    try {
      ChatTemplate template = ChatTemplate.fromConfig(tokenizer.config().orElseThrow(() ->
          new EngineException(EngineException.Kind.BAD_CHECKPOINT,
              modelDir + ": tokenizer_config.json with a chat_template is required")));
      Engine engine = Engine.load(modelDir, options);
      return new ServedModel(modelKey, modelDir, engine, tokenizer, template);
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  /**
   * Renders the chat template with a generation prompt and encodes it (the template writes BOS); a raw
   * prompt ({@link ChatMessage#isRawPrompt}) is encoded as it is, with the tokenizer's special tokens (BOS).
   */
  public Prompt prompt(List<ChatMessage> messages) {
    return prompt(messages, List.of());
  }

  /** As above, offering {@code tools} (null or empty: none) to the model. */
  public Prompt prompt(List<ChatMessage> messages, List<ToolSpec> tools) {
    if (ChatMessage.isRawPrompt(messages)) {
      String raw = messages.get(0).content();
      return new Prompt(raw, tokenizer.encode(raw, true));
    }
    String text = template.renderChat(messages, true, tools);
    return new Prompt(text, tokenizer.encode(text, false));
  }

  public String modelKey() {
    return modelKey;
  }

  public Engine engine() {
    return engine;
  }

  public DeepSeekTokenizer tokenizer() {
    return tokenizer;
  }

  /** Each token's text and bytes, for log-probabilities; the first call blocks while it reads them. */
  synchronized TokenPieces tokenPieces() {
    if (pieces == null) {
      pieces = TokenPieces.load(modelDir, tokenizer);
    }
    return pieces;
  }

  public int[] stopTokenIds() {
    return stopTokenIds.clone();
  }

  /**
   * What enforces {@code constraint} on one generation of at most {@code maxTokens} tokens; blocks
   * the first time (the vocabulary is laid out), so callers run it on a worker thread.
   *
   * @throws IllegalArgumentException when the constraint cannot be enforced (unsupported schema,
   *     max_tokens below the shortest valid output)
   */
  public TokenConstraint constraint(OutputConstraint constraint, int maxTokens) {
    return constrained.start(constraint, maxTokens, stopTokenIds);
  }

  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      tokenizer.close();
    }
  }
}
