package ai.deepchat.gpu.engine;

import ai.deepchat.platform.nativelib.NativeLibraries;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loaded model and its generation scheduler. {@link #start} is non-blocking: generation runs on
 * the engine's own scheduler thread and tokens arrive at the {@link TokenListener}. Loading and
 * {@link #forwardLogits} block, so call them from worker verticles, never from an event loop.
 * Thread-safe. {@link #close()} frees native memory once; a Cleaner does it if an engine is dropped.
 */
public final class Engine implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  private final EngineScheduler scheduler;
  private final Cleaner.Cleanable cleanable;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ModelInfo info;

  private Engine(long handle) {
    this.info = NativeEngine.modelInfo(handle);
    this.scheduler = new EngineScheduler(handle, info.maxSequences());
    this.cleanable = CLEANER.register(this, scheduler);
  }

  /** Loads a Hugging Face checkpoint folder (config.json + *.safetensors). */
  public static Engine load(Path modelDir, EngineOptions options) {
    loadLibrary();
    if (!Files.isDirectory(modelDir)) {
      throw new EngineException(EngineException.Kind.BAD_CHECKPOINT, "model folder not found: " + modelDir);
    }
    long handle = NativeEngine.load(modelDir.toAbsolutePath().toString(), options.backend(), options.threads(),
        options.int8(), options.maxSequences(), options.maxContext());
    try {
      return new Engine(handle);
    } catch (RuntimeException | Error e) {
      NativeEngine.close(handle);
      throw e;
    }
  }

  /**
   * Loading here (not only in NativeEngine's static initializer) makes a missing library an
   * EngineException on every attempt instead of an ExceptionInInitializerError once.
   */
  private static void loadLibrary() {
    try {
      NativeLibraries.load(NativeEngine.LIBRARY, Engine.class);
    } catch (UnsatisfiedLinkError e) {
      throw new EngineException(EngineException.Kind.UNSUPPORTED, e.getMessage());
    } catch (UncheckedIOException e) {
      throw new EngineException(EngineException.Kind.INTERNAL, e.getMessage(), e);
    }
  }

  public ModelInfo info() {
    return info;
  }

  /**
   * Queues a generation; beyond {@code maxSequences} live ones it waits for a free slot. Prompt problems (empty, longer than the context, token outside the
   * vocabulary) throw here; problems found when the scheduler admits it go to
   * {@link TokenListener#onError}.
   */
  public Sequence start(int[] promptTokens, Sampling sampling, TokenListener listener) {
    return start(promptTokens, sampling, listener, null);
  }

  /**
   * As {@link #start(int[], Sampling, TokenListener)}, every token chosen among those
   * {@code constraint} allows at that step (null: unconstrained).
   */
  public Sequence start(int[] promptTokens, Sampling sampling, TokenListener listener, TokenConstraint constraint) {
    return start(promptTokens, sampling, listener, constraint, 0);
  }

  /**
   * As {@link #start(int[], Sampling, TokenListener, TokenConstraint)}, through the LoRA adapter
   * {@code adapter} ({@link #loadAdapter}; 0: the base model). Sequences with different adapters
   * share one batch. An adapter unloaded before the sequence is admitted fails it with BAD_REQUEST.
   */
  public Sequence start(int[] promptTokens, Sampling sampling, TokenListener listener, TokenConstraint constraint,
      int adapter) {
    ensureOpen();
    if (sampling == null || listener == null) throw new IllegalArgumentException("sampling and listener are required");
    if (adapter < 0) throw new EngineException(EngineException.Kind.BAD_REQUEST, "adapter id must be >= 0");
    int[] prompt = checkPrompt(promptTokens);
    Sequence s = new Sequence(scheduler, prompt, sampling, listener, constraint, adapter);
    scheduler.submit(s);
    return s;
  }

  /**
   * Runs {@code hook} after each round of listener calls (a step's tokens, admissions and
   * cancellations, what is left at close), on the thread that made them, so listeners can hold what
   * they pass on and send it as one batch there. Replaces any earlier hook.
   */
  public void afterEvents(Runnable hook) {
    scheduler.afterEvents(java.util.Objects.requireNonNull(hook));
  }

  /**
   * Sequences and KV use as the scheduler thread saw them after its last step: a snapshot read
   * without locking or native calls, so cheap enough for a metrics scrape on an event loop.
   */
  public EngineStats stats() {
    return scheduler.stats();
  }

  /** Logits of the last position ({@code vocabSize} floats). */
  public float[] forwardLogits(int[] tokens) {
    return forwardLogits(tokens, false);
  }

  /** Logits of every position ({@code tokens.length * vocabSize}, row-major) or of the last one. */
  public float[] forwardLogits(int[] tokens, boolean allPositions) {
    return forwardLogits(tokens, allPositions, 0);
  }

  /** As {@link #forwardLogits(int[], boolean)}, through the LoRA adapter {@code adapter} (0: none). */
  public float[] forwardLogits(int[] tokens, boolean allPositions, int adapter) {
    ensureOpen();
    int[] prompt = checkPrompt(tokens);
    return scheduler.withHandle(h -> NativeEngine.forwardLogits(h, prompt, allPositions, adapter));
  }

  /**
   * Loads a Hugging Face PEFT LoRA adapter ({@code adapter_config.json} + {@code
   * adapter_model.safetensors}) over this engine's base weights and returns its id (> 0) for
   * {@link #start(int[], Sampling, TokenListener, TokenConstraint, int)}. Blocks while it reads the
   * files (running sequences keep generating). A bad adapter (another base model, wrong shapes,
   * truncated file, bad JSON, PEFT features not served) is an {@link EngineException} naming the fault.
   */
  public int loadAdapter(Path adapterDir) {
    ensureOpen();
    if (!Files.isDirectory(adapterDir)) {
      throw new EngineException(EngineException.Kind.BAD_CHECKPOINT, "adapter folder not found: " + adapterDir);
    }
    String dir = adapterDir.toAbsolutePath().toString();
    return scheduler.withHandle(h -> NativeEngine.loadAdapter(h, dir));
  }

  /** Forgets an adapter: new sequences cannot name it; those using it finish with it. */
  public void unloadAdapter(int adapter) {
    ensureOpen();
    scheduler.withHandle(h -> {
      NativeEngine.unloadAdapter(h, adapter);
      return null;
    });
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) cleanable.clean();
  }

  private void ensureOpen() {
    if (closed.get()) throw new EngineException(EngineException.Kind.BAD_REQUEST, "engine is closed");
  }

  private int[] checkPrompt(int[] tokens) {
    if (tokens == null || tokens.length == 0) {
      throw new EngineException(EngineException.Kind.BAD_REQUEST, "prompt is empty");
    }
    if (tokens.length > info.maxContext()) {
      throw new EngineException(EngineException.Kind.BAD_REQUEST, "prompt of " + tokens.length
          + " tokens is longer than the context of " + info.maxContext() + " tokens");
    }
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0 || tokens[i] >= info.vocabSize()) {
        throw new EngineException(EngineException.Kind.BAD_REQUEST, "prompt token " + i + " has id " + tokens[i]
            + " outside the vocabulary of " + info.vocabSize());
      }
    }
    return tokens.clone();
  }
}
