package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.engine.Sampling;
import ai.deepchat.gpu.engine.TokenConstraint;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.bus.StreamOutbox;
import ai.deepchat.platform.cluster.ClusterMembership;
import ai.deepchat.platform.cluster.NodeDrain;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.GenerateAccepted;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.tokenizer.stream.GenerationText;
import ai.deepchat.tokenizer.stream.ReasoningSplitter;
import ai.deepchat.tokenizer.template.ChatTemplateException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Owns one engine instance for one model and serves {@code engine.generate.<modelKey>}: the request is
 * acknowledged once the sequence is admitted (reply {@link GenerateAccepted}), tokens stream to the request's events
 * address, a published {@link CancelGeneration} stops it. Loading runs on a worker thread, admissions
 * (rendering, encoding, handing the sequence to the engine) side by side on the node's
 * {@code engine-admissions} pool; the engine generates on its own scheduler thread; the event loop only
 * routes messages.
 * Queue depth and KV use are gauges on the node's /metrics; a stopping node drains the worker first
 * ({@link #drain}).
 */
public final class EngineWorkerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(EngineWorkerVerticle.class);
  private static final long ANNOUNCE_MS = 2000;
  /** Drain default (ENGINE_DRAIN_SECONDS). */
  public static final Duration DRAIN_DEADLINE = Duration.ofSeconds(30);
  /** How long cut generations get to send their last event before the drain completes anyway. */
  private static final long CUT_GRACE_MS = 5000;
  private static final String HANDED_BACK = "the worker is shutting down before this generation sent a token";

  private final String modelKey;
  private final Path modelDir;
  private final EngineOptions options;
  private final String nodeId;
  private final Duration drainDeadline;
  private final String workerId = "worker-" + UUID.randomUUID().toString().substring(0, 8);
  private final Map<String, GenerationStream> active = new ConcurrentHashMap<>();
  private final LongAdder generatedTokens = new LongAdder();
  private final NodeDrain.Participant drainer = this::drain;
  private ServedModel model;
  // a step's events for each pipeline inbox leave as one message, when the engine's scheduler has dispatched them
  private StreamOutbox events;
  private long announceTimer = -1;
  private WorkerExecutor admissions;
  // admissions still running (event loop only): a stopping worker closes the engine after them
  private final List<Future<Void>> admitting = new ArrayList<>();
  private boolean stopping;
  private MessageConsumer<GenerateRequest> generate;
  // LoRA adapters served beside the base model (event loop: consumers by model key; rescans on a worker thread)
  private ServedAdapters adapters;
  private ServedAdapters.Changes initialAdapters;
  private final Map<String, MessageConsumer<GenerateRequest>> adapterConsumers = new TreeMap<>();
  private boolean rescanning;
  private AutoCloseable gauges;
  private volatile boolean draining;

  public EngineWorkerVerticle(String modelKey, Path modelDir, EngineOptions options, String nodeId) {
    this(modelKey, modelDir, options, nodeId, DRAIN_DEADLINE);
  }

  /** {@code drainDeadline}: how long a draining worker lets running generations finish. */
  public EngineWorkerVerticle(String modelKey, Path modelDir, EngineOptions options, String nodeId,
                              Duration drainDeadline) {
    this.modelKey = modelKey;
    this.modelDir = modelDir;
    this.options = options;
    this.nodeId = nodeId;
    this.drainDeadline = drainDeadline;
  }

  @Override
  public Future<?> start() {
    admissions = WorkerPools.of(vertx).open(WorkerPools.Kind.ENGINE_ADMISSIONS);
    return vertx.executeBlocking(() -> {
      ServedModel loaded = ServedModel.load(modelKey, modelDir, options);
      try {
        adapters = new ServedAdapters(modelKey, modelDir, loaded.engine());
        initialAdapters = adapters.rescan();
      } catch (RuntimeException e) {
        loaded.close();
        throw e;
      }
      return loaded;
    })
        .compose(loaded -> {
          model = loaded;
          events = StreamOutbox.manual(vertx.eventBus());
          loaded.engine().afterEvents(events::flush);
          LOG.info("serving model '{}' from {} ({})", modelKey, modelDir, loaded.engine().info());
          var bus = vertx.eventBus();
          generate = bus.consumer(Addresses.engineGenerate(modelKey), msg -> onGenerate(msg, 0));
          List<Future<Void>> registered = new ArrayList<>(List.of(generate.completion()));
          registered.add(applyAdapters(initialAdapters));
          registered.add(bus.<CancelGeneration>consumer(Addresses.ENGINE_CANCEL,
              msg -> cancel(msg.body().requestId())).completion());
          return Future.all(registered);
        })
        .onSuccess(v -> {
          // read at scrape time from the engine's published snapshot: no lock, no native call
          gauges = PlatformMetrics.get().registerWorker(workerId, modelKey,
              () -> model.engine().stats().queued(), () -> model.engine().stats().kvUse(), generatedTokens::sum);
          NodeDrain.of(vertx).join(drainer);
          announce(false);
          announceTimer = vertx.setPeriodic(ANNOUNCE_MS, id -> rescanThenAnnounce());
        });
  }

  @Override
  public Future<?> stop() {
    NodeDrain.of(vertx).leave(drainer);
    closeGauges();
    vertx.cancelTimer(announceTimer);
    announce(true);
    stopping = true;
    ServedModel toClose = model;
    return Future.join(new ArrayList<>(admitting)).transform(admitted -> {
      active.values().forEach(GenerationStream::cancel);
      return toClose == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
        toClose.close();
        return null;
      });
    });
  }

  /** {@code adapter}: the engine's LoRA adapter id for the key the request came on, 0 for the base model. */
  private void onGenerate(Message<GenerateRequest> msg, int adapter) {
    GenerateRequest request = msg.body();
    // the engine's time starts here: rendering, encoding, waiting for a batch slot and prefill are its own
    long admittedAtMicros = EngineStamp.nowMicros();
    if (request.messages() == null || request.messages().isEmpty()) {
      BusFailure.INVALID_REQUEST.fail(msg, "no messages");
      return;
    }
    if (stopping) {
      BusFailure.UNAVAILABLE.fail(msg, "the worker is stopping");
      return;
    }
    // unordered: admissions are independent (the engine, tokenizer and template are thread-safe)
    Future<Void> admitted = admissions.executeBlocking(() -> admit(request, admittedAtMicros, adapter), false);
    admitting.add(admitted);
    admitted.onComplete(ar -> {
      admitting.remove(admitted);
      if (ar.succeeded()) {
        msg.reply(new GenerateAccepted(workerId, ClusterMembership.localNodeId(vertx)));
      } else if (ar.cause() instanceof EngineException e && e.kind() == EngineException.Kind.BAD_REQUEST
          || ar.cause() instanceof ChatTemplateException || ar.cause() instanceof IllegalArgumentException) {
        BusFailure.INVALID_REQUEST.fail(msg, ar.cause().getMessage());
      } else {
        LOG.error("generation {} could not start", request.requestId(), ar.cause());
        BusFailure.UNAVAILABLE.fail(msg, "the engine could not start the generation: " + ar.cause().getMessage());
      }
    });
  }

  /** Renders, encodes and starts the sequence; runs on the engine-admissions pool. */
  private Void admit(GenerateRequest request, long admittedAtMicros, int adapter) {
    ServedModel.Prompt prompt = model.prompt(request.messages(), request.tools());
    SamplingParams p = request.sampling();
    // a raw prompt has no chat template to open a thinking block; constrained output is the answer
    // itself, content even after a prompt that opens the thinking (R1)
    ReasoningSplitter splitter = ChatMessage.isRawPrompt(request.messages()) ? ReasoningSplitter.plainText()
        : p.constraint() != null ? ReasoningSplitter.thinkingInOutput() : ReasoningSplitter.forPrompt(prompt.text());
    GenerationText text = new GenerationText(model.tokenizer(), splitter,
        p.stop() == null ? List.of() : p.stop(), toolNames(request));
    GenerationStream stream = new GenerationStream(request.requestId(), request.eventsAddress(),
        events, text, () -> active.remove(request.requestId()), generatedTokens, admittedAtMicros, 0,
        p.logprobs() ? model.tokenPieces() : null);
    Sampling sampling = new Sampling((float) p.temperature(), (float) p.topP(), p.topK(),
        (float) p.repetitionPenalty(), p.seed(), p.maxTokens(), model.stopTokenIds(), p.topLogprobs());
    // the engine also ends a sequence at the context's end: the constrained output must close before either
    TokenConstraint constraint = p.constraint() == null ? null : model.constraint(p.constraint(),
        Math.min(p.maxTokens(), model.engine().info().maxContext() - prompt.tokens().length));
    // registered before it starts, so a cancel that arrives meanwhile is not lost; the stream
    // removes itself when it ends
    active.put(request.requestId(), stream);
    try {
      stream.attach(model.engine().start(prompt.tokens(), sampling, stream, constraint, adapter));
    } catch (RuntimeException e) {
      active.remove(request.requestId());
      throw e;
    }
    if (draining) { // it arrived after the handover: a peer's view of the routing lagged
      stream.handBack(HANDED_BACK);
    }
    return null;
  }

  /** The tools the model may call: its calls to any other are dropped. */
  private static Set<String> toolNames(GenerateRequest request) {
    return request.tools() == null ? Set.of()
        : request.tools().stream().map(ToolSpec::name).collect(Collectors.toUnmodifiableSet());
  }

  /**
   * Stops taking generations and lets the running ones end before the node leaves: the announcement
   * says leaving, the worker leaves the cluster's routing for its model (what peers still send
   * meanwhile is served), then generations that have sent no token are handed back (ERROR
   * "handed_back": the dispatcher starts them on another worker), the others finish until the drain
   * deadline and are cut after it (ERROR "error"). Completes when none is left; true when none had to
   * be cut.
   */
  public Future<Boolean> drain() {
    Promise<Boolean> done = Promise.promise();
    long deadline = System.nanoTime() + drainDeadline.toNanos();
    context.runOnContext(v -> {
      vertx.cancelTimer(announceTimer);
      announce(true);
      List<Future<Void>> withdrawn = servedKeys().stream()
          .map(key -> NodeDrain.withdraw(vertx, Addresses.engineGenerate(key))).toList();
      Future.join(withdrawn).eventually(() -> {
        draining = true;
        List<Future<Void>> unregistered = new ArrayList<>(List.of(generate.unregister()));
        adapterConsumers.values().forEach(c -> unregistered.add(c.unregister()));
        return Future.join(unregistered);
      }).onComplete(ar -> {
        long handedBack = active.values().stream().filter(s -> s.handBack(HANDED_BACK)).count();
        LOG.info("draining worker {}: new generations go elsewhere; {} handed back, {} running, up to {} s",
            workerId, handedBack, active.size() - handedBack, drainDeadline.toSeconds());
        awaitIdle(deadline, done);
      });
    });
    return done.future();
  }

  /** Polls until no generation is left; past the deadline cuts the rest, and gives them a short grace to end. */
  private void awaitIdle(long deadline, Promise<Boolean> done) {
    boolean[] cut = {false};
    vertx.setPeriodic(1, 50, id -> {
      long now = System.nanoTime();
      if (active.isEmpty() || now >= deadline + CUT_GRACE_MS * 1_000_000) {
        done.tryComplete(!cut[0] && active.isEmpty()); // before cancelling: see GatewayAdmission.drain
        vertx.cancelTimer(id);
      } else if (now >= deadline && !cut[0]) {
        cut[0] = true;
        LOG.warn("drain deadline passed: cutting {} generation(s)", active.size());
        active.values().forEach(s -> s.cut("the worker shut down before the answer was complete"));
      }
    });
  }

  private void closeGauges() {
    try {
      if (gauges != null) {
        gauges.close();
      }
    } catch (Exception e) {
      LOG.warn("could not remove the worker gauges", e);
    }
  }

  private void cancel(String requestId) {
    GenerationStream stream = active.get(requestId);
    if (stream != null) {
      stream.cancel();
    }
  }

  /** Follows the model's adapters/ folder (new, changed, removed adapters), then announces what is served. */
  private void rescanThenAnnounce() {
    if (rescanning || stopping || draining) {
      announce(false);
      return;
    }
    rescanning = true;
    vertx.executeBlocking(adapters::rescan).compose(this::applyAdapters)
        .onFailure(e -> LOG.warn("could not rescan the LoRA adapters: {}", e.getMessage()))
        .onComplete(ar -> {
          rescanning = false;
          if (!stopping) {
            announce(false);
          }
        });
  }

  /** Serves added adapters under their keys and stops serving removed ones (event loop). */
  private Future<Void> applyAdapters(ServedAdapters.Changes changes) {
    if (stopping || draining) {
      return Future.succeededFuture();
    }
    List<Future<Void>> done = new ArrayList<>();
    changes.removed().keySet().forEach(key -> {
      MessageConsumer<GenerateRequest> c = adapterConsumers.remove(key);
      if (c != null) {
        done.add(c.unregister());
      }
    });
    changes.added().forEach((key, id) -> {
      MessageConsumer<GenerateRequest> c =
          vertx.eventBus().consumer(Addresses.engineGenerate(key), msg -> onGenerate(msg, id));
      adapterConsumers.put(key, c);
      done.add(c.completion());
    });
    return Future.all(done).mapEmpty();
  }

  private void announce(boolean leaving) {
    vertx.eventBus().publish(Addresses.ENGINE_ANNOUNCE,
        new WorkerAnnouncement(workerId, nodeId, servedKeys(), active.size(), leaving, options.backend(),
            model == null ? 0 : model.engine().stats().queued()));
  }

  /** The base model's key, then one per LoRA adapter served over it. */
  private List<String> servedKeys() {
    List<String> keys = new ArrayList<>(List.of(modelKey));
    keys.addAll(adapterConsumers.keySet());
    return keys;
  }

  /** Generations running now (for tests and metrics). */
  public int activeSequences() {
    return active.size();
  }
}
