package ai.deepchat.gpu.engine;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One generation in flight. Tokens go to its {@link TokenListener}; {@link #completion()} completes
 * with the finish reason (or exceptionally with the {@link EngineException}). Closing cancels.
 */
public final class Sequence implements AutoCloseable {
  private static final Logger LOG = System.getLogger(Sequence.class.getName());
  private final EngineScheduler scheduler;
  private final int[] prompt;
  private final Sampling sampling;
  private final TokenListener listener;
  private final TokenConstraint constraint;  // null: unconstrained
  private final int adapter;  // LoRA adapter id, 0: the base model
  private final CompletableFuture<FinishReason> completion = new CompletableFuture<>();
  private final AtomicBoolean cancelRequested = new AtomicBoolean();
  private final AtomicBoolean ended = new AtomicBoolean();
  private volatile int completionTokens;
  int nativeId = -1;  // touched only by the scheduler thread

  Sequence(EngineScheduler scheduler, int[] prompt, Sampling sampling, TokenListener listener,
      TokenConstraint constraint, int adapter) {
    this.scheduler = scheduler;
    this.adapter = adapter;
    this.prompt = prompt;
    this.sampling = sampling;
    this.listener = listener;
    this.constraint = constraint;
  }

  /** Stops generation and frees the sequence's KV memory between two steps; idempotent. */
  public void cancel() {
    if (!ended.get() && cancelRequested.compareAndSet(false, true)) scheduler.cancel(this);
  }

  @Override
  public void close() {
    cancel();
  }

  public boolean isDone() {
    return ended.get();
  }

  public CompletionStage<FinishReason> completion() {
    return completion;
  }

  int adapter() {
    return adapter;
  }

  public int promptTokens() {
    return prompt.length;
  }

  public int completionTokens() {
    return completionTokens;
  }

  int[] prompt() {
    return prompt;
  }

  Sampling sampling() {
    return sampling;
  }

  boolean cancelRequested() {
    return cancelRequested.get();
  }

  void deliverToken(int token, Logprobs logprobs) {
    if (constraint != null) constraint.accept(token);
    completionTokens++;
    if (logprobs == null) {
      listener.onToken(token);
    } else {
      listener.onToken(token, logprobs);
    }
  }

  /** Scheduler thread, before a step: the constraint's mask for the next sample, null when unconstrained. */
  long[] nextTokenMask() {
    return constraint == null ? null : constraint.nextMask();
  }

  void finish(FinishReason reason, int completion) {
    if (!ended.compareAndSet(false, true)) return;
    completionTokens = completion;
    try {
      listener.onFinish(reason, prompt.length, completion);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      // A listener must not take the scheduler thread down with it.
      LOG.log(Level.WARNING, "TokenListener.onFinish failed", e);
    } finally {
      this.completion.complete(reason);
    }
  }

  void fail(EngineException e) {
    if (!ended.compareAndSet(false, true)) return;
    try {
      listener.onError(e);
    } catch (VirtualMachineError le) {
      throw le;
    } catch (Throwable le) {
      LOG.log(Level.WARNING, "TokenListener.onError failed", le);
    } finally {
      completion.completeExceptionally(e);
    }
  }
}
