package ai.deepchat.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A model's HF {@code tokenizer.json} run by the Rust tokenizers library through DJL, offline.
 *
 * <p>Encode and decode are thread-safe (the Rust tokenizer is immutable once built). The native
 * tokenizer lives until {@link #close()}; close it only when no call is in flight. DJL's own
 * finalizer frees the handle if a tokenizer is dropped unclosed, so no second safety net is added.
 */
public final class DeepSeekTokenizer implements AutoCloseable {

  public static final String FILE_NAME = "tokenizer.json";

  static {
    // DJL "calls home" (an HTTP request to AWS) on every tokenizer creation unless offline mode or
    // tracking opt-out is set; workers have no internet and must not leak. Respect explicit settings.
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("OPT_OUT_TRACKING", "true");
  }

  // Truncation and padding off: DJL otherwise truncates to 512 tokens, silently, by default.
  private static final Map<String, String> DJL_OPTIONS =
      Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true");

  private final HuggingFaceTokenizer tokenizer;
  private final AddedTokens addedTokens;
  private final Optional<TokenizerConfig> config;
  private final String source;
  // what close() gives up: the native tokenizer itself, or a lease on one shared by TokenizerRegistry
  private final Runnable release;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DeepSeekTokenizer(HuggingFaceTokenizer tokenizer, AddedTokens addedTokens,
      Optional<TokenizerConfig> config, String source, Runnable release) {
    this.tokenizer = tokenizer;
    this.addedTokens = addedTokens;
    this.config = config;
    this.source = source;
    this.release = release == null ? tokenizer::close : release;
  }

  /**
   * Another handle on this tokenizer's native tokenizer, with its own folder's config, whose close() runs
   * {@code release} instead of freeing it.
   */
  DeepSeekTokenizer lease(Optional<TokenizerConfig> config, Path source, Runnable release) {
    return new DeepSeekTokenizer(tokenizer, addedTokens, config, source.toString(), release);
  }

  /**
   * Loads {@code tokenizer.json} and, when present, {@code tokenizer_config.json} (for the BOS/EOS
   * tokens) from a model folder.
   *
   * @throws TokenizerException naming the file when it is missing, not JSON, or not a tokenizer
   */
  public static DeepSeekTokenizer load(Path modelDir) {
    return load(modelDir.resolve(FILE_NAME), folderConfig(modelDir));
  }

  /** A model folder's {@code tokenizer_config.json}, when it has one. */
  static Optional<TokenizerConfig> folderConfig(Path modelDir) {
    Path configFile = modelDir.resolve(TokenizerConfig.FILE_NAME);
    return Files.exists(configFile) ? Optional.of(TokenizerConfig.load(configFile)) : Optional.empty();
  }

  /** Loads a {@code tokenizer.json} file with an optional, separately loaded config. */
  public static DeepSeekTokenizer load(Path tokenizerJson, Optional<TokenizerConfig> config) {
    return fromJson(read(tokenizerJson), config, tokenizerJson, null);
  }

  /** The bytes of a {@code tokenizer.json}, with the tokenizer's own message when it cannot be read. */
  static byte[] read(Path tokenizerJson) {
    try {
      return Files.readAllBytes(tokenizerJson);
    } catch (NoSuchFileException e) {
      throw new TokenizerException(FILE_NAME + " not found at " + tokenizerJson, e);
    } catch (IOException e) {
      throw new TokenizerException("cannot read " + tokenizerJson + ": " + e.getMessage(), e);
    }
  }

  /** Builds the tokenizer of {@code json} (read from {@code source}); close() runs {@code release}, if given. */
  static DeepSeekTokenizer fromJson(byte[] json, Optional<TokenizerConfig> config, Path source, Runnable release) {
    AddedTokens added;
    try {
      added = AddedTokens.parse(json);
    } catch (IOException e) {
      throw new TokenizerException(
          source + " is not a valid " + FILE_NAME + ": " + e.getMessage(), e);
    }
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), DJL_OPTIONS);
    } catch (IOException | RuntimeException e) {
      throw new TokenizerException(
          "HF tokenizers rejected " + source + ": " + e.getMessage(), e);
    }
    return new DeepSeekTokenizer(hf, added, config, source.toString(), release);
  }

  /** Encodes with the special tokens the tokenizer's post-processor adds (none for DeepSeek-V3). */
  public int[] encode(String text) {
    return encode(text, true);
  }

  /**
   * Encodes text. Special-token text inside {@code text} (e.g. {@code <｜User｜>}) always becomes the
   * special token, as in HF; callers that must not let users inject them escape the text upstream.
   */
  public int[] encode(String text, boolean addSpecialTokens) {
    return toInts(encodeIds(handle(), text, addSpecialTokens));
  }

  /** The number of tokens {@link #encode(String, boolean)} gives {@code text}, without the int copy. */
  public int count(String text, boolean addSpecialTokens) {
    return encodeIds(handle(), text, addSpecialTokens).length;
  }

  /**
   * The ids alone (#25): DJL's {@code HuggingFaceTokenizer.encode} asks the native encoding for ids, type ids,
   * tokens as strings, word and sequence ids, both masks and char spans (nine JNI calls, about 1.6 KB of garbage)
   * where a count or a prompt needs only the ids. DJL's public {@code HuggingFaceTokenizer} has no ids-only encode,
   * so this calls its JNI binding, {@code TokenizersLibrary}, as DJL itself does, on the same native tokenizer.
   * DJL's own preparation of the text ({@code prepareForTokenization}: prefix space, lower case, accents) is off
   * with this class's options and a tokenizer.json read alone, so the native call gets the text unchanged;
   * DeepSeekTokenizerTest checks the ids equal the full path's on every reference text.
   */
  private static long[] encodeIds(HuggingFaceTokenizer hf, String text, boolean addSpecialTokens) {
    if (text == null) {
      throw new NullPointerException("text cannot be null");
    }
    long encoding = TokenizersLibrary.LIB.encode(hf.getHandle(), text, addSpecialTokens);
    try {
      return TokenizersLibrary.LIB.getTokenIds(encoding);
    } finally {
      TokenizersLibrary.LIB.deleteEncoding(encoding);
    }
  }

  /** DJL's full encode ({@link #encodeIds}'s reference; tests compare the two). */
  int[] encodeThroughEncoding(String text, boolean addSpecialTokens) {
    return toInts(handle().encode(text, addSpecialTokens, false).getIds());
  }

  private static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /** Decodes all ids, special tokens included (HF's default). */
  public String decode(int[] ids) {
    return decode(ids, 0, ids.length, false);
  }

  public String decode(int[] ids, boolean skipSpecialTokens) {
    return decode(ids, 0, ids.length, skipSpecialTokens);
  }

  /** Decodes {@code ids[from, to)}; lets streaming decode a window without copying twice. */
  public String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
    if (from < 0 || to > ids.length || from > to) {
      throw new IndexOutOfBoundsException("range [" + from + ", " + to + ") of " + ids.length);
    }
    long[] window = new long[to - from];
    int n = 0;
    for (int i = from; i < to; i++) {
      int id = ids[i];
      if (id < 0 || id >= vocabSize()) {
        throw new IllegalArgumentException("token id " + id + " outside vocab of " + vocabSize());
      }
      if (!skipSpecialTokens || !addedTokens.controlIds.get(id)) {
        window[n++] = id;
      }
    }
    return handle().decode(n == window.length ? window : Arrays.copyOf(window, n), skipSpecialTokens);
  }

  /** The id of an added token (the special and control tokens), by its exact text. */
  public OptionalInt tokenToId(String token) {
    Integer id = addedTokens.idByContent.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** The text of an added token by id; empty for ordinary vocab ids. */
  public Optional<String> idToToken(int id) {
    return Optional.ofNullable(addedTokens.contentById.get(id));
  }

  /** Whether the id is an added token flagged special (dropped by skip-special decoding). */
  public boolean isSpecial(int id) {
    return addedTokens.specialIds.contains(id);
  }

  /** Distinct ids of vocab plus added tokens, HF's {@code len(tokenizer)}; the model's embedding
   * table may be larger (padded). */
  public int vocabSize() {
    return addedTokens.vocabSize;
  }

  /** The model's {@code tokenizer_config.json}, when the folder had one. */
  public Optional<TokenizerConfig> config() {
    return config;
  }

  public OptionalInt bosTokenId() {
    return config.flatMap(TokenizerConfig::bosToken).map(this::tokenToId)
        .orElse(OptionalInt.empty());
  }

  public OptionalInt eosTokenId() {
    return config.flatMap(TokenizerConfig::eosToken).map(this::tokenToId)
        .orElse(OptionalInt.empty());
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      release.run();
    }
  }

  private HuggingFaceTokenizer handle() {
    if (closed.get()) {
      throw new IllegalStateException("tokenizer " + source + " is closed");
    }
    return tokenizer;
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
