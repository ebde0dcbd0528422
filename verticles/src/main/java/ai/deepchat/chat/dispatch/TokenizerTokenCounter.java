package ai.deepchat.chat.dispatch;

import ai.deepchat.chat.cache.ResponseCache;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.tokenizer.BundledTokenizer;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.TokenizerRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * Exact counts with the model's own tokenizer (Hugging Face tokenizer.json through platform-tokenizer's
 * {@link DeepSeekTokenizer}). Native code: call from worker threads. Without MODEL_DIR the DeepSeek-V3
 * tokenizer bundled in platform-tokenizer (the test model's) is used, which is also the tokenizer of
 * DeepSeek's API models. The native tokenizer is shared with this JVM's engine worker when it reads the
 * same tokenizer.json ({@link TokenizerRegistry}).
 */
public final class TokenizerTokenCounter implements TokenCounter, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TokenizerTokenCounter.class);

  /** Node-wide (the native tokenizers are shared too): what the tokenizer pool spends its time on (#25). */
  private static final LongAdder CALLS = new LongAdder();
  private static final LongAdder CHARS = new LongAdder();
  private static final LongAdder NANOS = new LongAdder();
  private static final LongAdder CPU_NANOS = new LongAdder();
  // the encoding's own CPU beside its wall time: on busy cores the wall time counts the waits for a core too
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final DeepSeekTokenizer tokenizer;

  public TokenizerTokenCounter(DeepSeekTokenizer tokenizer) {
    this.tokenizer = tokenizer;
    register(ResponseCache.registry());
  }

  /**
   * deepchat_tokenizer_calls_total, _chars_total, _seconds_total and _cpu_seconds_total: texts encoded to count their
   * tokens, their characters, the wall time spent encoding them and the encoding threads' CPU time in it.
   * Registering again returns the meters already there.
   */
  private static void register(MeterRegistry registry) {
    FunctionCounter.builder("deepchat.tokenizer.calls", CALLS, LongAdder::doubleValue)
        .description("Texts the node's tokenizer encoded to count their tokens").register(registry);
    FunctionCounter.builder("deepchat.tokenizer.chars", CHARS, LongAdder::doubleValue)
        .description("Characters (UTF-16 units) of the texts the node's tokenizer encoded").register(registry);
    FunctionCounter.builder("deepchat.tokenizer.seconds", NANOS, n -> n.doubleValue() / 1e9)
        .description("Time spent encoding texts to count their tokens").register(registry);
    FunctionCounter.builder("deepchat.tokenizer.cpu.seconds", CPU_NANOS, n -> n.doubleValue() / 1e9)
        .description("CPU time of the threads encoding texts to count their tokens").register(registry);
  }

  /** Texts encoded by every counter of this JVM so far (tests and benches read it). */
  public static long calls() {
    return CALLS.sum();
  }

  /** CPU time, in nanoseconds, of every counter's encodings in this JVM so far. */
  public static long cpuNanos() {
    return CPU_NANOS.sum();
  }

  /** The serving model's tokenizer; the approximate counter only if no tokenizer can be loaded. Blocking. */
  public static TokenCounter forConfig(PlatformConfig config) {
    try {
      Optional<Path> modelDir = config.engine().modelDir();
      if (modelDir.isPresent() && Files.exists(modelDir.get().resolve(DeepSeekTokenizer.FILE_NAME))) {
        return new TokenizerTokenCounter(TokenizerRegistry.acquire(modelDir.get()));
      }
      return new TokenizerTokenCounter(TokenizerRegistry.acquire(bundled(config.dataDir()), Optional.empty()));
    } catch (RuntimeException e) {
      LOG.warn("no tokenizer could be loaded ({}); context budgets use a conservative estimate", e.getMessage());
      return new ApproxTokenCounter();
    }
  }

  /** The bundled DeepSeek-V3 tokenizer.json, extracted once into the data directory. */
  private static Path bundled(Path dataDir) {
    Path file = dataDir.resolve("models").resolve("tokenizers").resolve("deepseek-v3").resolve(DeepSeekTokenizer.FILE_NAME);
    if (Files.exists(file)) {
      return file;
    }
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      BundledTokenizer.copy(DeepSeekTokenizer.FILE_NAME, tmp);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public int count(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    long cpu = THREADS.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    int n = tokenizer.count(text, false);
    NANOS.add(System.nanoTime() - start);
    CPU_NANOS.add(THREADS.getCurrentThreadCpuTime() - cpu);
    CALLS.increment();
    CHARS.add(text.length());
    return n;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
