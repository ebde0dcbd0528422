package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.gpu.engine.FinishReason;
import ai.deepchat.gpu.engine.Logprobs;
import ai.deepchat.gpu.engine.Sequence;
import ai.deepchat.gpu.engine.TokenListener;
import ai.deepchat.platform.bus.StreamOutbox;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.tokenizer.stream.GenerationText;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Turns one sequence's tokens into text events on the bus: detokenized incrementally, split into
 * reasoning and content, cut at stop strings. Runs on the engine's scheduler thread; events go to the
 * worker's outbox, which the scheduler flushes after each step (one message per pipeline inbox). A draining worker ends it early ({@link #handBack},
 * {@link #cut}): no delta goes out after that, and the last event is an ERROR saying why. Every event
 * carries the worker's clock (admission and emission), so the platform can tell its own latency from
 * the engine's.
 */
final class GenerationStream implements TokenListener {

  /** Why the worker ended a generation early: the ERROR event's finish reason and text. */
  private record EarlyEnd(String finishReason, String error) {
  }

  private final String requestId;
  private final String eventsAddress;
  private final StreamOutbox outbox;
  private final GenerationText text;
  private final Runnable onEnd;
  private final LongAdder generatedTokens;
  private final long admittedAtMicros;
  private final AtomicReference<Sequence> sequence = new AtomicReference<>();
  private final int choice;
  // null unless the request asked for log-probabilities; pending: those of tokens whose text is held back
  private final TokenPieces pieces;
  private List<TokenLogprob> pendingLogprobs = new ArrayList<>();
  private volatile boolean stoppedByString;
  private volatile boolean cancelled;
  private boolean sentDelta; // guarded by this, with earlyEnd: a hand-back is only allowed before any delta
  private EarlyEnd earlyEnd;
  private int sent; // guarded by this: events sent, each numbered for the pipeline's check of its order

  /** {@code generatedTokens}: the worker's count of tokens its engine produced, for its metrics. */
  GenerationStream(String requestId, String eventsAddress, StreamOutbox outbox, GenerationText text, Runnable onEnd,
                   LongAdder generatedTokens, long admittedAtMicros) {
    this(requestId, eventsAddress, outbox, text, onEnd, generatedTokens, admittedAtMicros, 0, null);
  }

  /** {@code choice}: which of the request's n choices this is; {@code pieces}: non-null for log-probabilities. */
  GenerationStream(String requestId, String eventsAddress, StreamOutbox outbox, GenerationText text, Runnable onEnd,
                   LongAdder generatedTokens, long admittedAtMicros, int choice, TokenPieces pieces) {
    this.choice = choice;
    this.pieces = pieces;
    this.requestId = requestId;
    this.generatedTokens = generatedTokens;
    this.admittedAtMicros = admittedAtMicros;
    this.eventsAddress = eventsAddress;
    this.outbox = outbox;
    this.text = text;
    this.onEnd = onEnd;
  }

  void attach(Sequence started) {
    sequence.set(started);
    if (stoppedByString || cancelled) {
      started.cancel();
    }
  }

  /** Cancels now, or as soon as the sequence is attached. */
  void cancel() {
    cancelled = true;
    Sequence s = sequence.get();
    if (s != null) {
      s.cancel();
    }
  }

  /**
   * Ends the generation with ERROR "handed_back" if it has sent no delta yet, so the dispatcher can
   * start it again on another worker; false when it already streams.
   */
  boolean handBack(String why) {
    synchronized (this) {
      if (sentDelta || earlyEnd != null) {
        return false;
      }
      earlyEnd = new EarlyEnd(GenerationEvent.HANDED_BACK, why);
    }
    cancel();
    return true;
  }

  /** Ends the generation with a clean ERROR "error" event (what was sent stays sent). */
  void cut(String why) {
    synchronized (this) {
      if (earlyEnd == null) {
        earlyEnd = new EarlyEnd("error", why);
      }
    }
    cancel();
  }

  private synchronized EarlyEnd earlyEnd() {
    return earlyEnd;
  }

  @Override
  public void onToken(int tokenId, Logprobs logprobs) {
    if (pieces != null && !stoppedByString) {
      pendingLogprobs.add(pieces.logprob(tokenId, logprobs));
    }
    onToken(tokenId);
  }

  @Override
  public void onToken(int tokenId) {
    generatedTokens.increment();
    if (stoppedByString) {
      return;
    }
    GenerationText.Step step = text.accept(tokenId);
    emit(step);
    if (step.stopped()) {
      stoppedByString = true;
      Sequence s = sequence.get();
      if (s != null) {
        s.cancel();
      }
    }
  }

  @Override
  public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
    EarlyEnd early = earlyEnd();
    if (early != null) {
      onEnd.run();
      send(new GenerationEvent(requestId, GenerationEvent.Kind.ERROR, null, null,
          early.finishReason(), null, early.error()));
      return;
    }
    if (!stoppedByString) {
      emit(text.finish());
    }
    if (!pendingLogprobs.isEmpty()) { // tokens that added no visible text (a control token, say)
      emit(new GenerationText.Step("", "", false, java.util.Optional.empty()), true);
    }
    String finish = stoppedByString ? "stop" : switch (reason) {
      // the model ended after calling tools: the client runs them and comes back (OpenAI's reason)
      case STOP -> text.toolCalls() > 0 ? "tool_calls" : "stop";
      case LENGTH -> "length";
      case CANCELLED -> "cancelled";
    };
    onEnd.run(); // before the last event: whoever sees DONE sees the slot free
    send(new GenerationEvent(requestId, GenerationEvent.Kind.DONE, null, null, finish,
        new Usage(promptTokens, completionTokens), null, stamp(), null, null, choice));
  }

  @Override
  public void onError(EngineException e) {
    onEnd.run();
    send(new GenerationEvent(requestId, GenerationEvent.Kind.ERROR, null, null, "error",
        null, e.getMessage(), stamp()));
  }

  private void emit(GenerationText.Step step) {
    emit(step, false);
  }

  private void emit(GenerationText.Step step, boolean logprobsOnly) {
    if (step.isEmpty() && !logprobsOnly) {
      return;
    }
    synchronized (this) {
      if (earlyEnd != null) {
        return;
      }
      sentDelta = true;
    }
    List<TokenLogprob> logprobs = null;
    if (!pendingLogprobs.isEmpty()) {
      logprobs = List.copyOf(pendingLogprobs);
      pendingLogprobs = new ArrayList<>();
    }
    send(new GenerationEvent(requestId, GenerationEvent.Kind.DELTA,
        emptyToNull(step.content()), emptyToNull(step.reasoning()), null, null, null, stamp(),
        step.toolCalls().isEmpty() ? null : step.toolCalls(), logprobs, choice));
  }

  private void send(GenerationEvent event) {
    // numbered as held: a cut or hand-back may send from another thread than the scheduler's
    synchronized (this) {
      outbox.send(EngineMessages.GENERATION_STREAM, eventsAddress, event.withSeq(++sent));
    }
  }

  private EngineStamp stamp() {
    return new EngineStamp(admittedAtMicros, EngineStamp.nowMicros());
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
