package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.bus.StreamInbox;
import ai.deepchat.platform.bus.StreamOrder;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.GenerateAccepted;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.AsyncResult;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The local engine over the event bus: a GenerateRequest to the model's address (acknowledged within
 * the request timeout, far below the bus default of 30 s, so a dead worker is noticed early), events
 * through this context's {@link StreamInbox} (a worker sends one message per engine step for all the
 * generations of one inbox) under a per-attempt id, and CancelGeneration published when the client leaves or the stream stalls
 * for longer than the idle timeout.
 *
 * <p>When the worker goes away before the first token (its node leaves the cluster, it hands the
 * generation back while draining, or it does not accept in time) the generation starts again on
 * another worker, up to {@link #MAX_ATTEMPTS} in all: the user has seen nothing yet, so nothing is
 * contradicted. After the first token a lost worker ends the stream with an error.
 */
final class EngineBusBackend implements ModelBackend {

  static final int MAX_ATTEMPTS = 3;
  private static final long RETRY_BACKOFF_MS = 200;
  private static final Logger LOG = LoggerFactory.getLogger(EngineBusBackend.class);

  private final Vertx vertx;
  private final String modelKey;
  private final long requestTimeoutMs;
  private final long idleTimeoutMs;
  private final WorkerWatch workers;

  EngineBusBackend(Vertx vertx, String modelKey, long requestTimeoutMs, long idleTimeoutMs, WorkerWatch workers) {
    this.vertx = vertx;
    this.modelKey = modelKey;
    this.requestTimeoutMs = requestTimeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.workers = workers;
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, GenerationListener listener) {
    return start(requestId, tenantId, messages, sampling, null, listener);
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, List<ToolSpec> tools,
                                             GenerationListener listener) {
    Run run = new Run(requestId, tenantId, messages, sampling, tools, listener);
    run.attempt();
    return run;
  }

  private final class Run implements GenerationListener.Generation {
    private final String requestId;
    private final String tenantId;
    private final List<ChatMessage> messages;
    private final SamplingParams sampling;
    private final List<ToolSpec> tools;
    private final GenerationListener listener;
    private int attempt;
    private String attemptId;
    private final StreamInbox<GenerationEvent> inbox;
    private AutoCloseable watch = () -> { };
    private long idleTimer = -1;
    private long lastEventNanos;
    private boolean delivered;
    private boolean finished;

    Run(String requestId, String tenantId, List<ChatMessage> messages, SamplingParams sampling,
        List<ToolSpec> tools, GenerationListener listener) {
      this.tools = tools;
      this.requestId = requestId;
      this.tenantId = tenantId;
      this.messages = messages;
      this.sampling = sampling;
      this.listener = listener;
      this.inbox = StreamInbox.current(vertx, EngineMessages.GENERATION_STREAM);
    }

    void attempt() {
      // a fresh id per attempt: late events of a worker thought dead cannot mix into the retry
      String id = attempt == 0 ? requestId : requestId + "-r" + attempt;
      attemptId = id;
      StreamOrder order = new StreamOrder();
      inbox.register(id, event -> {
        if (!id.equals(attemptId)) {
          return;
        }
        int before = order.last();
        if (order.accept(event.seq())) {
          onEvent(event);
        } else {
          // the bus lost an event between the worker's node and this one: the answer would have a hole
          PlatformMetrics.get().streamGap("generation");
          workerLost("part of the generation was lost on its way from the engine worker (event " + event.seq()
              + " arrived after event " + before + ")");
        }
      });
      armIdle();
      GenerateRequest request = new GenerateRequest(id, tenantId, modelKey, messages, sampling, inbox.address(),
          tools);
      inbox.ready()
          .compose(registered -> vertx.eventBus().<Object>request(Addresses.engineGenerate(modelKey), request,
              new DeliveryOptions().setSendTimeout(requestTimeoutMs)))
          .onComplete(ar -> {
            if (id.equals(attemptId) && !finished) {
              onReply(ar);
            }
          });
    }

    private void onReply(AsyncResult<Message<Object>> ar) {
      if (ar.succeeded()) {
        if (ar.result().body() instanceof GenerateAccepted accepted) {
          watch = workers.watch(accepted.nodeId(), () -> workerLost("the engine worker's node left the cluster"));
        }
        return;
      }
      if (!(ar.cause() instanceof ReplyException err)) {
        workerLost("the request to the engine failed: " + ar.cause().getMessage());
        return;
      }
      switch (err.failureType()) {
        case NO_HANDLERS -> {
          if (attempt == 0) {
            fail(BusFailure.BACKEND_UNAVAILABLE, "no engine worker serves model '" + modelKey + "'");
          } else {
            // a worker was there a moment ago: the bus may still be dropping the dead one's route
            workerLost("no engine worker serves model '" + modelKey + "' now");
          }
        }
        case TIMEOUT -> workerLost("the engine did not accept the request within " + requestTimeoutMs + " ms");
        case RECIPIENT_FAILURE -> {
          if (BusFailure.of(err).retryable()) {
            workerLost("the engine could not start the generation: " + err.getMessage());
          } else {
            fail(BusFailure.BACKEND_ERROR, "the engine refused the request: " + err.getMessage());
          }
        }
        // the bus could not reach the worker's node (connection refused or reset): it is going away
        default -> workerLost("the engine worker could not be reached: " + err.getMessage());
      }
    }

    void onEvent(GenerationEvent event) {
      if (finished) {
        return;
      }
      lastEventNanos = System.nanoTime();
      switch (event.kind()) {
        case DELTA -> {
          delivered = true;
          boolean calls = event.toolCalls() != null && !event.toolCalls().isEmpty();
          if (!calls || event.content() != null || event.reasoning() != null || event.logprobs() != null) {
            listener.onDelta(event.content(), event.reasoning(), event.stamp(), event.logprobs());
          }
          if (calls) {
            listener.onToolCalls(event.toolCalls());
          }
        }
        case DONE -> {
          endAttempt(false);
          finished = true;
          listener.onDone(event.finishReason() == null ? "stop" : event.finishReason(), event.usage());
        }
        case ERROR -> {
          String why = event.error() == null ? "the engine failed" : event.error();
          if (GenerationEvent.HANDED_BACK.equals(event.finishReason())) {
            workerLost(why);
          } else {
            endAttempt(false);
            finished = true;
            listener.onError(BusFailure.BACKEND_ERROR.apiCode(), why);
          }
        }
      }
    }

    /** The worker is gone or gave the generation back: start again elsewhere if nothing was shown yet. */
    private void workerLost(String why) {
      if (finished) {
        return;
      }
      if (delivered || attempt + 1 >= MAX_ATTEMPTS) {
        fail(BusFailure.BACKEND_UNAVAILABLE, why + (delivered ? " while answering" : " (tried " + (attempt + 1) + " times)"));
        return;
      }
      LOG.warn("generation {} attempt {} lost its worker before the first token ({}); starting it again",
          requestId, attempt + 1, why);
      endAttempt(true);
      attempt++;
      vertx.setTimer(RETRY_BACKOFF_MS * attempt, t -> {
        if (!finished) {
          attempt();
        }
      });
    }

    /**
     * One timer per attempt, not one per token: events only note their time, and the timer re-arms
     * for the rest of the window when it fires early.
     */
    void armIdle() {
      lastEventNanos = System.nanoTime();
      if (idleTimer < 0) {
        idleTimer = vertx.setTimer(idleTimeoutMs, this::onIdleTimer);
      }
    }

    private void onIdleTimer(long id) {
      idleTimer = -1;
      if (finished) {
        return;
      }
      long quietMs = (System.nanoTime() - lastEventNanos) / 1_000_000;
      if (quietMs >= idleTimeoutMs) {
        fail(BusFailure.BACKEND_TIMEOUT, "the model sent nothing for " + idleTimeoutMs + " ms");
      } else {
        idleTimer = vertx.setTimer(idleTimeoutMs - quietMs, this::onIdleTimer);
      }
    }

    @Override
    public void cancel() {
      if (!finished) {
        finished = true;
        endAttempt(true);
      }
    }

    private void fail(BusFailure failure, String message) {
      finished = true;
      endAttempt(true);
      listener.onError(failure.apiCode(), message);
    }

    /** Stops listening to the current attempt; {@code cancel} also tells its worker to stop. */
    private void endAttempt(boolean cancel) {
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
        idleTimer = -1;
      }
      try {
        watch.close();
      } catch (Exception ignored) {
        // closing a watch only removes a list entry
      }
      watch = () -> { };
      inbox.unregister(attemptId);
      if (cancel) {
        vertx.eventBus().publish(Addresses.ENGINE_CANCEL, new CancelGeneration(attemptId));
      }
    }
  }
}
