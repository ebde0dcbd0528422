package ai.deepchat.bench;

import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.gpu.engine.FinishReason;
import ai.deepchat.gpu.engine.Sampling;
import ai.deepchat.gpu.engine.TokenListener;
import ai.deepchat.gpu.worker.ServedModel;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.tokenizer.stream.GenerationText;
import ai.deepchat.tokenizer.stream.ReasoningSplitter;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine alone, as the peer figure of a platform step: the same number of users in the same closed
 * loop (prompts, answer length, sampling, think time) straight on an engine with the worker's options,
 * tokens detokenized as the worker does, no platform in between. Prompts have the platform step's
 * shape: API users send one message; widget users' prompts carry their conversation so far (earlier
 * questions with answers of about {@code maxTokens} tokens), which makes their prefill longer. Its tokens/s is what the engine can
 * give this load on this machine; the platform's delivered tokens/s is read against it.
 */
final class EnginePeer {

  record Result(double tokensPerSecond, Histogram ttft, Histogram gaps) {
  }

  private EnginePeer() {
  }

  static Result run(ServedModel model, int users, int apiUsers, int turnsPerConversation, String message,
                    int maxTokens, double temperature, long thinkMs, long warmupMs, long measureMs,
                    Runnable atWindowStart) throws InterruptedException {
    List<ServedModel.Prompt> single = List.of(model.prompt(List.of(new ChatMessage("user", message + " (100.1)"))));
    List<ServedModel.Prompt> conversation = new java.util.ArrayList<>();
    List<ChatMessage> history = new java.util.ArrayList<>();
    String answer = String.join(" ", java.util.Collections.nCopies(Math.max(1, maxTokens / 2), "open daily"));
    for (int t = 0; t < Math.max(1, turnsPerConversation); t++) {
      history.add(new ChatMessage("user", message + " (100." + t + ")"));
      conversation.add(model.prompt(List.copyOf(history)));
      history.add(new ChatMessage("assistant", answer));
    }
    StepStats stats = new StepStats();
    AtomicBoolean stopping = new AtomicBoolean();
    LongAdder running = new LongAdder();
    ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    try {
      for (int i = 0; i < users; i++) {
        new User(model, i < apiUsers ? single : conversation, stats, maxTokens, temperature, thinkMs, timers,
            stopping, running)
            .later(ThreadLocalRandom.current().nextLong(Math.max(1, warmupMs / 2)));
      }
      long from = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs);
      long to = from + TimeUnit.MILLISECONDS.toNanos(measureMs);
      stats.window(from, to);
      Thread.sleep(warmupMs);
      atWindowStart.run();
      Thread.sleep(measureMs);
      stopping.set(true);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (running.sum() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      return new Result(stats.tokens.sum() / (measureMs / 1000.0), stats.ttft, stats.gaps);
    } finally {
      timers.shutdownNow();
    }
  }

  /** One user: a sequence, its tokens, think time, the next sequence (the next prompt of its cycle). */
  private static final class User implements TokenListener {
    private final ServedModel model;
    private final List<ServedModel.Prompt> prompts;
    private int turns;
    private ServedModel.Prompt prompt;
    private final StepStats stats;
    private final Sampling sampling;
    private final long thinkMs;
    private final ScheduledExecutorService timers;
    private final AtomicBoolean stopping;
    private final LongAdder running;
    private GenerationText text;
    private StepStats.Turn turn;

    User(ServedModel model, List<ServedModel.Prompt> prompts, StepStats stats, int maxTokens, double temperature,
         long thinkMs, ScheduledExecutorService timers, AtomicBoolean stopping, LongAdder running) {
      this.model = model;
      this.prompts = prompts;
      this.stats = stats;
      // the widget tenant's sampling (ConversationVerticle.tenantSampling) at this temperature
      this.sampling = new Sampling((float) temperature, temperature == 0 ? 1f : 0.95f, 0, 1.05f,
          ThreadLocalRandom.current().nextLong(), maxTokens, model.stopTokenIds());
      this.thinkMs = thinkMs;
      this.timers = timers;
      this.stopping = stopping;
      this.running = running;
    }

    void later(long delayMs) {
      timers.schedule(this::begin, Math.max(1, delayMs), TimeUnit.MILLISECONDS);
    }

    private void begin() {
      if (stopping.get()) {
        return;
      }
      running.increment();
      prompt = prompts.get(turns++ % prompts.size());
      text = new GenerationText(model.tokenizer(), ReasoningSplitter.forPrompt(prompt.text()), List.of());
      turn = stats.new Turn();
      model.engine().start(prompt.tokens(), sampling, this);
    }

    @Override
    public void onToken(int tokenId) {
      if (!text.accept(tokenId).isEmpty()) {
        turn.delta(System.nanoTime());
      }
    }

    @Override
    public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
      text.finish();
      turn.done(System.nanoTime(), completionTokens);
      running.decrement();
      later((long) (thinkMs * (0.5 + ThreadLocalRandom.current().nextDouble())));
    }

    @Override
    public void onError(EngineException e) {
      stats.error(e.kind().name(), System.nanoTime());
      running.decrement();
      later(thinkMs);
    }
  }
}
