package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.List;

/**
 * The local engine over the event bus: a GenerateRequest to the model's address (acknowledged within
 * the request timeout, far below the bus default of 30 s, so a dead worker is noticed early), events on
 * a per-request address, and CancelGeneration published when the client leaves or the stream stalls
 * for longer than the idle timeout.
 */
public final class EngineBusBackend implements ModelBackend {

  private final Vertx vertx;
  private final String modelKey;
  private final long requestTimeoutMs;
  private final long idleTimeoutMs;

  public EngineBusBackend(Vertx vertx, String modelKey, long requestTimeoutMs, long idleTimeoutMs) {
    this.vertx = vertx;
    this.modelKey = modelKey;
    this.requestTimeoutMs = requestTimeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, GenerationListener listener) {
    Run run = new Run(requestId, listener);
    String eventsAddress = Addresses.generationEvents(requestId);
    run.consumer = vertx.eventBus().consumer(eventsAddress, msg -> run.onEvent(msg.body()));
    run.armIdle();
    GenerateRequest request = new GenerateRequest(requestId, tenantId, modelKey, messages, sampling, eventsAddress);
    run.consumer.completion()
        .compose(registered -> vertx.eventBus().request(Addresses.engineGenerate(modelKey), request,
            new DeliveryOptions().setSendTimeout(requestTimeoutMs)))
        .onFailure(run::onRequestFailed);
    return run;
  }

  private final class Run implements GenerationListener.Generation {
    private final String requestId;
    private final GenerationListener listener;
    private MessageConsumer<GenerationEvent> consumer;
    private long idleTimer = -1;
    private boolean finished;

    Run(String requestId, GenerationListener listener) {
      this.requestId = requestId;
      this.listener = listener;
    }

    void onEvent(GenerationEvent event) {
      if (finished) {
        return;
      }
      armIdle();
      switch (event.kind()) {
        case DELTA -> listener.onDelta(event.content(), event.reasoning(), event.stamp());
        case DONE -> {
          finish();
          listener.onDone(event.finishReason() == null ? "stop" : event.finishReason(), event.usage());
        }
        case ERROR -> {
          finish();
          listener.onError("backend_error", event.error() == null ? "the engine failed" : event.error());
        }
      }
    }

    void onRequestFailed(Throwable err) {
      if (finished) {
        return;
      }
      finish();
      if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        listener.onError("backend_unavailable", "no engine worker serves model '" + modelKey + "'");
      } else if (err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT) {
        vertx.eventBus().publish(Addresses.ENGINE_CANCEL, new CancelGeneration(requestId));
        listener.onError("backend_timeout", "the engine did not accept the request within "
            + requestTimeoutMs + " ms");
      } else {
        listener.onError("backend_error", "the engine refused the request: " + err.getMessage());
      }
    }

    void armIdle() {
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
      }
      idleTimer = vertx.setTimer(idleTimeoutMs, t -> {
        if (!finished) {
          finish();
          vertx.eventBus().publish(Addresses.ENGINE_CANCEL, new CancelGeneration(requestId));
          listener.onError("backend_timeout", "the model sent nothing for " + idleTimeoutMs + " ms");
        }
      });
    }

    @Override
    public void cancel() {
      if (!finished) {
        finish();
        vertx.eventBus().publish(Addresses.ENGINE_CANCEL, new CancelGeneration(requestId));
      }
    }

    private void finish() {
      finished = true;
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
      }
      consumer.unregister();
    }
  }
}
