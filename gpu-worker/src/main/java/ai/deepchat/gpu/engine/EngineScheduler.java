package ai.deepchat.gpu.engine;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Owns the native handle and the scheduler thread. The thread loops while sequences are live:
 * applies queued starts and cancellations, runs one native batched step, dispatches the events to
 * listeners. Native code never calls back into Java. This object, not {@link Engine}, is what the
 * thread references, so an abandoned Engine can still be reached by its Cleaner (see {@link #run}).
 */
final class EngineScheduler implements Runnable {
  private static final Logger LOG = System.getLogger(EngineScheduler.class.getName());

  private final long handle;
  private final Object lock = new Object();
  private final ArrayDeque<Sequence> toStart = new ArrayDeque<>();
  private final ArrayDeque<Sequence> toCancel = new ArrayDeque<>();
  private final Map<Integer, Sequence> running = new HashMap<>();  // scheduler thread only
  // Admitted in order once a native slot is free, so callers never see "slots busy".
  private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();  // scheduler thread only
  private final int maxSequences;
  // Direct native calls (forwardLogits) hold the read lock; freeing the handle takes the write lock.
  private final ReentrantReadWriteLock handleLock = new ReentrantReadWriteLock();
  // Published by the scheduler thread after admissions and after each step (see stats()).
  private volatile EngineStats stats;
  // Called after each round of listener calls, on the thread that made them (see Engine.afterEvents).
  private volatile Runnable afterEvents = () -> { };
  private boolean shutdown;
  private boolean released;
  private Thread thread;

  EngineScheduler(long handle, int maxSequences) {
    this.handle = handle;
    this.maxSequences = maxSequences;
    this.stats = new EngineStats(0, 0, 0, NativeEngine.kvStats(handle).totalTokens());
  }

  long handle() {
    return handle;
  }

  EngineStats stats() {
    return stats;
  }

  void submit(Sequence s) {
    synchronized (lock) {
      if (shutdown) throw new EngineException(EngineException.Kind.BAD_REQUEST, "engine is closed");
      toStart.add(s);
      if (thread == null) {
        thread = new Thread(this::loop, "dsengine-scheduler");
        thread.setDaemon(true);
        thread.start();
      }
      lock.notifyAll();
    }
  }

  void afterEvents(Runnable hook) {
    afterEvents = hook;
  }

  private void eventsDispatched() {
    try {
      afterEvents.run();
    } catch (RuntimeException e) {
      // foreign code, like a listener: it must not stop the scheduler
      LOG.log(Level.WARNING, "after-events hook failed", e);
    }
  }

  void cancel(Sequence s) {
    synchronized (lock) {
      toCancel.add(s);
      lock.notifyAll();
    }
  }

  <T> T withHandle(java.util.function.LongFunction<T> call) {
    handleLock.readLock().lock();
    try {
      if (released) throw new EngineException(EngineException.Kind.BAD_REQUEST, "engine is closed");
      return call.apply(handle);
    } finally {
      handleLock.readLock().unlock();
    }
  }

  /** Cleaner action and close(): stops the thread, cancels what is left, frees native memory. */
  @Override
  public void run() {
    Thread t;
    synchronized (lock) {
      shutdown = true;
      lock.notifyAll();
      t = thread;
    }
    if (t == Thread.currentThread()) return;  // close() from a listener: the loop finishes the job
    if (t != null) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    release();
  }

  private void release() {
    List<Sequence> leftover;
    synchronized (lock) {
      leftover = new ArrayList<>(toStart);
      toStart.clear();
      toCancel.clear();
    }
    for (Sequence s : leftover) s.finish(FinishReason.CANCELLED, 0);
    eventsDispatched();
    handleLock.writeLock().lock();
    try {
      if (!released) {
        released = true;
        NativeEngine.close(handle);
      }
    } finally {
      handleLock.writeLock().unlock();
    }
  }

  private void loop() {
    List<Sequence> starts = new ArrayList<>();
    List<Sequence> cancels = new ArrayList<>();
    try {
      while (true) {
        synchronized (lock) {
          while (!shutdown && toStart.isEmpty() && toCancel.isEmpty() && running.isEmpty() && waiting.isEmpty()) {
            lock.wait();
          }
          if (shutdown) break;
          starts.addAll(toStart);
          toStart.clear();
          cancels.addAll(toCancel);
          toCancel.clear();
        }
        waiting.addAll(starts);
        for (Sequence s : cancels) {
          if (s.nativeId >= 0 && running.containsKey(s.nativeId)) NativeEngine.cancel(handle, s.nativeId);
          else if (waiting.remove(s)) s.finish(FinishReason.CANCELLED, 0);
        }
        while (!waiting.isEmpty() && running.size() < maxSequences) begin(waiting.poll());
        starts.clear();
        cancels.clear();
        publishStats();
        if (!running.isEmpty()) {
          stepOnce();
          publishStats();
        }
        eventsDispatched();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      for (Sequence s : running.values()) s.finish(FinishReason.CANCELLED, s.completionTokens());
      running.clear();
      for (Sequence s : waiting) s.finish(FinishReason.CANCELLED, 0);
      waiting.clear();
      eventsDispatched();
      boolean selfClose;
      synchronized (lock) {
        selfClose = shutdown;
      }
      if (selfClose) release();
      stats = new EngineStats(0, 0, 0, stats.kvTotalTokens());
    }
  }

  /** Scheduler thread only: between steps, so the native lock is free and the count is exact. */
  private void publishStats() {
    int queued;
    synchronized (lock) {
      queued = toStart.size();
    }
    try {
      NativeEngine.KvStats s = NativeEngine.kvStats(handle);
      stats = new EngineStats(s.live(), queued + waiting.size(), s.usedTokens(), s.totalTokens());
    } catch (EngineException e) {
      // Only gauges read this; keep the last snapshot rather than stop the scheduler.
      LOG.log(Level.WARNING, "engine stats unavailable", e);
    }
  }

  private void begin(Sequence s) {
    if (s.cancelRequested()) {
      s.finish(FinishReason.CANCELLED, 0);
      return;
    }
    Sampling p = s.sampling();
    try {
      s.nativeId = NativeEngine.start(handle, s.prompt(), p.temperature(), p.topP(), p.topK(), p.repetitionPenalty(),
          p.seed(), p.maxTokens(), p.stopTokenIds(), s.adapter());
      running.put(s.nativeId, s);
      if (p.topLogprobs() >= 0) NativeEngine.requestLogprobs(handle, s.nativeId, p.topLogprobs());
    } catch (EngineException e) {
      s.fail(e);
    }
  }

  /** Sets each constrained sequence's mask for this step; a failing constraint ends its own sequence. */
  private void applyTokenMasks() {
    for (var it = running.values().iterator(); it.hasNext(); ) {
      Sequence s = it.next();
      try {
        long[] mask = s.nextTokenMask();
        if (mask != null) NativeEngine.setTokenMask(handle, s.nativeId, mask);
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable e) {
        LOG.log(Level.WARNING, "token constraint failed; cancelling its sequence", e);
        NativeEngine.cancel(handle, s.nativeId);
        it.remove();
        s.fail(e instanceof EngineException ee ? ee
            : new EngineException(EngineException.Kind.INTERNAL, "token constraint failed: " + e, e));
      }
    }
  }

  private void stepOnce() {
    applyTokenMasks();
    NativeEngine.StepEvent[] events;
    try {
      events = NativeEngine.stepEvents(handle);
    } catch (EngineException e) {
      // A failed step leaves no sequence in a known state: end them all with the error.
      for (Sequence s : running.values()) {
        NativeEngine.cancel(handle, s.nativeId);
        s.fail(e);
      }
      running.clear();
      try {
        NativeEngine.stepEvents(handle);  // drains the cancellation events
      } catch (EngineException ignored) {
        // Already reported to every listener above.
      }
      return;
    }
    // a step's events are of sequences still in running: when none asked, no native call
    boolean asked = running.values().stream().anyMatch(s -> s.sampling().topLogprobs() >= 0);
    Map<Integer, Logprobs> logprobs = asked ? NativeEngine.lastLogprobsBySequence(handle) : Map.of();
    for (NativeEngine.StepEvent ev : events) {
      Sequence s = running.get(ev.seqId());
      if (s == null) continue;
      int token = ev.token();
      int finish = ev.finishCode();
      if (token >= 0) {
        try {
          s.deliverToken(token, logprobs.get(ev.seqId()));
        } catch (VirtualMachineError e) {
          throw e;
        } catch (Throwable e) {
          // Listener code is foreign: whatever it throws ends its own sequence, not the scheduler.
          LOG.log(Level.WARNING, "token listener failed; cancelling its sequence", e);
          if (finish == 0) NativeEngine.cancel(handle, s.nativeId);
          running.remove(ev.seqId());
          s.fail(new EngineException(EngineException.Kind.INTERNAL, "token listener failed: " + e, e));
          continue;
        }
      }
      if (finish != 0) {
        running.remove(ev.seqId());
        s.finish(FinishReason.fromNative(finish), ev.completionTokens());
      }
    }
  }
}
