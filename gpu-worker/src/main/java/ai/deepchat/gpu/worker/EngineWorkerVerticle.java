package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.engine.Sampling;
import ai.deepchat.gpu.text.stream.GenerationText;
import ai.deepchat.gpu.text.stream.ReasoningSplitter;
import ai.deepchat.gpu.text.template.ChatTemplateException;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import ai.deepchat.platform.engine.EngineStamp;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Owns one engine instance for one model and serves {@code engine.generate.<modelKey>}: the request is
 * acknowledged once the sequence is admitted (reply "accepted"), tokens stream to the request's events
 * address, a published {@link CancelGeneration} stops it. Loading, rendering and encoding run on worker
 * threads; the engine generates on its own scheduler thread; the event loop only routes messages.
 */
public final class EngineWorkerVerticle extends VerticleBase {

  /** Failure codes of the generate request (Message.fail). */
  public static final int BAD_REQUEST = 400;
  public static final int UNAVAILABLE = 503;

  private static final Logger LOG = LoggerFactory.getLogger(EngineWorkerVerticle.class);
  private static final long ANNOUNCE_MS = 2000;

  private final String modelKey;
  private final Path modelDir;
  private final EngineOptions options;
  private final String nodeId;
  private final String workerId = "worker-" + UUID.randomUUID().toString().substring(0, 8);
  private final Map<String, GenerationStream> active = new ConcurrentHashMap<>();
  private ServedModel model;
  private long announceTimer = -1;

  public EngineWorkerVerticle(String modelKey, Path modelDir, EngineOptions options, String nodeId) {
    this.modelKey = modelKey;
    this.modelDir = modelDir;
    this.options = options;
    this.nodeId = nodeId;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(() -> ServedModel.load(modelKey, modelDir, options))
        .compose(loaded -> {
          model = loaded;
          LOG.info("serving model '{}' from {} ({})", modelKey, modelDir, loaded.engine().info());
          var bus = vertx.eventBus();
          Future<Void> generate = bus.<GenerateRequest>consumer(Addresses.engineGenerate(modelKey), this::onGenerate)
              .completion();
          Future<Void> cancel = bus.<CancelGeneration>consumer(Addresses.ENGINE_CANCEL,
              msg -> cancel(msg.body().requestId())).completion();
          return Future.all(generate, cancel);
        })
        .onSuccess(v -> {
          announce(false);
          announceTimer = vertx.setPeriodic(ANNOUNCE_MS, id -> announce(false));
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(announceTimer);
    announce(true);
    active.values().forEach(GenerationStream::cancel);
    ServedModel toClose = model;
    return toClose == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      toClose.close();
      return null;
    });
  }

  private void onGenerate(Message<GenerateRequest> msg) {
    GenerateRequest request = msg.body();
    // the engine's time starts here: rendering, encoding, waiting for a batch slot and prefill are its own
    long admittedAtMicros = EngineStamp.nowMicros();
    if (request.messages() == null || request.messages().isEmpty()) {
      msg.fail(BAD_REQUEST, "no messages");
      return;
    }
    vertx.executeBlocking(() -> admit(request, admittedAtMicros)).onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply("accepted");
      } else if (ar.cause() instanceof EngineException e && e.kind() == EngineException.Kind.BAD_REQUEST
          || ar.cause() instanceof ChatTemplateException || ar.cause() instanceof IllegalArgumentException) {
        msg.fail(BAD_REQUEST, ar.cause().getMessage());
      } else {
        LOG.error("generation {} could not start", request.requestId(), ar.cause());
        msg.fail(UNAVAILABLE, "the engine could not start the generation: " + ar.cause().getMessage());
      }
    });
  }

  /** Renders, encodes and starts the sequence; runs on a worker thread. */
  private Void admit(GenerateRequest request, long admittedAtMicros) {
    ServedModel.Prompt prompt = model.prompt(request.messages());
    SamplingParams p = request.sampling();
    GenerationText text = new GenerationText(model.tokenizer(), ReasoningSplitter.forPrompt(prompt.text()),
        p.stop() == null ? List.of() : p.stop());
    GenerationStream stream = new GenerationStream(request.requestId(), request.eventsAddress(),
        vertx.eventBus(), text, () -> active.remove(request.requestId()), admittedAtMicros);
    Sampling sampling = new Sampling((float) p.temperature(), (float) p.topP(), p.topK(),
        (float) p.repetitionPenalty(), p.seed(), p.maxTokens(), model.stopTokenIds());
    // registered before it starts, so a cancel that arrives meanwhile is not lost; the stream
    // removes itself when it ends
    active.put(request.requestId(), stream);
    try {
      stream.attach(model.engine().start(prompt.tokens(), sampling, stream));
    } catch (RuntimeException e) {
      active.remove(request.requestId());
      throw e;
    }
    return null;
  }

  private void cancel(String requestId) {
    GenerationStream stream = active.get(requestId);
    if (stream != null) {
      stream.cancel();
    }
  }

  private void announce(boolean leaving) {
    vertx.eventBus().publish(Addresses.ENGINE_ANNOUNCE,
        new WorkerAnnouncement(workerId, nodeId, List.of(modelKey), active.size(), leaving));
  }

  /** Generations running now (for tests and metrics). */
  public int activeSequences() {
    return active.size();
  }
}
