package ai.deepchat.chat.conversation;

import ai.deepchat.chat.cache.ResponseCache;
import ai.deepchat.canary.CanaryServices;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.CanaryModelDispatcher;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.ModelDispatcher;
import ai.deepchat.chat.dispatch.TenantModelDispatcher;
import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.Platform;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.cluster.NodeDrain;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.chat.ChatMessages.CancelTurn;
import ai.deepchat.platform.chat.ChatMessages.TurnAck;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The pipeline's conversation role: takes turns from the HTTP edges, persists the user turn before
 * acknowledging it, chooses the model version, and runs each turn ({@link TurnRunner}) until its answer
 * is stored. Cancels arrive published; only the instance running the turn acts on one. A stopping
 * node drains it first: it stops taking turns and lets the running ones finish ({@link #drain}).
 *
 * <p>A node runs PIPELINE_INSTANCES of these; the bus hands each turn to one of them. With
 * PIPELINE_ON_EDGE_LOOP every event loop has one, and an edge on this node hands its turns to the one on
 * its own loop ({@link TurnLoops}); the bus then carries the turns of other nodes. Per instance, on
 * its own event loop: the running turns, the in-flight count its drain waits for, the backends (HTTP
 * pool, worker watch) and dispatchers. Node-wide and thread-safe: the response cache, the tokenizer,
 * the policy and rollout services (their caches hand futures back on the caller's context).
 */
public final class ConversationVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ConversationVerticle.class);

  private final Platform platform;
  private final CanaryServices canary;
  private final TokenCounter tokens;
  private final PolicyServices policy;
  private final ModerationService moderation;
  private final ResponseCache cache;
  private final Map<String, TurnRunner> running = new HashMap<>();
  private final NodeDrain.Participant drainer = this::drain;
  private MessageConsumer<TurnRequest> turns;
  private MessageConsumer<TurnRequest> loopTurns; // this event loop's edges' turns; null if another instance has them
  private String loopAddress;
  private int turnsInFlight; // from the request to the stored answer, so a drain also waits for turns still starting
  private ModelDispatcher dispatcher;
  private ConversationStore store;
  private Backends backends;
  private TurnRunner.Deps deps;
  private EarlyRoute early;

  /**
   * {@code canary} null: no rollout routing, the tenant's stable version (or the platform default)
   * answers. {@code cache}: the node's response cache, shared by every instance.
   */
  public ConversationVerticle(Platform platform, TokenCounter tokens, PolicyServices policy, CanaryServices canary,
                              ResponseCache cache) {
    this.canary = canary;
    this.platform = platform;
    this.tokens = tokens;
    this.policy = policy;
    this.moderation = policy.moderation();
    this.cache = cache;
  }

  @Override
  public Future<?> start() {
    var chat = platform.config().chat();
    TenantModelDispatcher plain = new TenantModelDispatcher(platform.database(), platform.config());
    CanaryTurn.Routing routing = null;
    if (canary == null) {
      dispatcher = plain;
    } else {
      CanaryModelDispatcher routed = new CanaryModelDispatcher(platform.database(), canary.chooser(), plain);
      routing = new CanaryTurn.Routing(canary, routed);
      dispatcher = routed;
    }
    WorkerExecutor tokenizer = WorkerPools.of(vertx).open(WorkerPools.Kind.TOKENIZER);
    store = new ConversationStore(vertx, tokenizer, platform.database(), tokens);
    backends = new Backends(vertx, chat, OutboundPolicy.of(platform.config()));
    deps = new TurnRunner.Deps(vertx, store, backends, cache, tokens, policy.moderation(), policy.plugins(), chat,
        routing, tokenizer);
    early = new EarlyRoute(vertx, chat, policy.plugins());
    turns = vertx.eventBus().consumer(Addresses.CHAT_TURN, this::onTurn);
    loopAddress = platform.config().instances().turnsOnEdgeLoop() ? TurnLoops.claim(vertx) : null;
    if (loopAddress != null) {
      loopTurns = vertx.eventBus().localConsumer(loopAddress, this::onTurn);
    }
    return Future.all(
        turns.completion(),
        vertx.eventBus().<CancelTurn>consumer(Addresses.CHAT_TURN_CANCEL, msg -> {
          TurnRunner runner = running.get(msg.body().turnId());
          if (runner != null) {
            runner.cancel();
          }
        }).completion())
        .onSuccess(v -> NodeDrain.of(vertx).join(drainer));
  }

  /**
   * Stops taking turns (the pipeline leaves the cluster's routing for turns, serving what gateways
   * still send meanwhile, then its consumer goes) and completes once the running turns are stored, or
   * after SHUTDOWN_GRACE_SECONDS.
   */
  private Future<Boolean> drain() {
    Promise<Boolean> done = Promise.promise();
    long deadline = System.nanoTime() + Duration.ofSeconds(platform.config().operations().shutdownGraceSeconds()).toNanos();
    context.runOnContext(v -> leaveLoop().compose(x -> NodeDrain.withdraw(vertx, Addresses.CHAT_TURN))
        .eventually(turns::unregister)
        .onComplete(ar -> vertx.setPeriodic(1, 50, id -> {
          if (turnsInFlight == 0 || System.nanoTime() >= deadline) {
            done.tryComplete(turnsInFlight == 0); // before cancelling: see GatewayAdmission.drain
            vertx.cancelTimer(id);
          }
        })));
    return done.future();
  }

  /** This loop's edges send their turns to the bus from now on (a drain's first step, or the stop). */
  private Future<Void> leaveLoop() {
    if (loopTurns == null) {
      return Future.succeededFuture();
    }
    TurnLoops.release(vertx, loopAddress);
    MessageConsumer<TurnRequest> consumer = loopTurns;
    loopTurns = null;
    return consumer.unregister();
  }

  @Override
  public Future<?> stop() {
    NodeDrain.of(vertx).leave(drainer);
    leaveLoop();
    // a node going down keeps what its open turns delivered, marked interrupted
    List.copyOf(running.values()).forEach(TurnRunner::cancel);
    backends.close();
    return Future.succeededFuture();
  }

  private void onTurn(Message<TurnRequest> msg) {
    TurnRequest req = msg.body();
    UUID tenantId;
    UUID conversationId;
    try {
      tenantId = UUID.fromString(req.tenantId());
      conversationId = req.conversationId() == null ? UUID.randomUUID() : UUID.fromString(req.conversationId());
      validate(req);
    } catch (IllegalArgumentException | NullPointerException e) {
      fail(msg, BusFailure.INVALID_REQUEST.exception(e.getMessage() == null ? "invalid turn" : e.getMessage()));
      return;
    }
    UUID tenant = tenantId;
    TraceRecorder trace = new TraceRecorder(); // the turn's clock starts at its arrival
    turnsInFlight++;
    // routed first where nothing comes before routing: an FAQ answer is then stored with the turn, in one
    // transaction; the model is chosen inside the turn's first transaction (its rollout snapshot taken just before)
    moderate(tenantId, req, trace).compose(moderated -> early.route(tenant, moderated.request(),
            moderated.blockedReply(), trace)
        .compose(routed -> dispatcher.inTransaction(tenant, conversationId,
            req.conversationId() != null, moderated.request().requestedModel())
        .compose(choice -> {
          TurnRequest turnReq = moderated.request();
          KnownAnswer known = routed != null && routed.succeeded()
              ? KnownAnswer.faq(routed.result(), trace, turnReq.trace()) : null;
          return store.begin(tenant, turnReq, conversationId, choice,
                  (model, extra) -> VersionSampling.of(model, extra, tenantSampling(extra)), known)
              .map(turn -> {
                ModelChoice model = turn.model();
                TurnRunner runner = new TurnRunner(deps, turnReq, tenant, model, turn, turn.sampling(),
                    moderated.blockedReply(), trace, routed);
                msg.reply(new TurnAck(req.turnId(), turn.conversationId().toString(), turn.userMessageId().toString(),
                    turn.assistantMessageId().toString(), model.name(), model.testModel(), turn.replay() != null));
                running.put(req.turnId(), runner);
                runner.run().onComplete(done -> {
                  running.remove(req.turnId());
                  turnsInFlight--;
                });
                return runner;
              });
        })))
        .onFailure(err -> {
          turnsInFlight--;
          fail(msg, err);
        });
  }

  /** The request after input moderation; {@code blockedReply} set when the tenant's word list blocks it. */
  private record Moderated(TurnRequest request, String blockedReply) {
  }

  /**
   * Checks the new user message against the tenant's word list: masked words are masked before the
   * message is stored or sent anywhere; a blocked message is stored and answered with the tenant's
   * polite reply, without the model. If the word list cannot be read the message passes (logged): the
   * database being down fails the turn at the next step anyway.
   */
  private Future<Moderated> moderate(UUID tenantId, TurnRequest req, TraceRecorder trace) {
    List<ChatMessage> msgs = req.messages();
    ChatMessage last = msgs.get(msgs.size() - 1);
    return moderation.checkInput(tenantId, last.content())
        .onSuccess(trace::input)
        .map(verdict -> switch (verdict.action()) {
          case ALLOW -> new Moderated(req, null);
          case BLOCK -> new Moderated(req, verdict.text());
          case MASK -> {
            List<ChatMessage> masked = new java.util.ArrayList<>(msgs.subList(0, msgs.size() - 1));
            masked.add(last.withContent(verdict.text()));
            yield new Moderated(req.withMessages(List.copyOf(masked)), null);
          }
        })
        .recover(err -> {
          LOG.warn("moderation unavailable for tenant {} ({}); message passed unchecked", tenantId, err.toString());
          return Future.succeededFuture(new Moderated(req, null));
        });
  }

  /**
   * Sampling for widget turns comes from the tenant (settings.temperature, settings.max_tokens). The
   * default is greedy: support answers should be consistent, and repeated questions then come from the
   * response cache.
   */
  private SamplingParams tenantSampling(JsonObject extra) {
    int maxTokens = platform.config().chat().defaultMaxTokens();
    double temperature = 0;
    try {
      maxTokens = Math.max(1, Math.min(extra.getInteger("max_tokens", maxTokens), 1 << 16));
      temperature = Math.max(0, Math.min(extra.getDouble("temperature", 0.0), 2));
    } catch (ClassCastException badSetting) {
      LOG.warn("tenant settings hold a non-numeric temperature or max_tokens; using defaults");
    }
    return new SamplingParams(temperature, temperature == 0 ? 1 : 0.95, 0, 1.05, 0, maxTokens, List.of());
  }

  private static void validate(TurnRequest req) {
    if (req.turnId() == null || req.eventsAddress() == null || req.channel() == null) {
      throw new IllegalArgumentException("turnId, eventsAddress and channel are required");
    }
    if (req.messages() == null || req.messages().isEmpty()) {
      throw new IllegalArgumentException("messages must not be empty");
    }
    for (ChatMessage m : req.messages()) {
      if (m == null || m.content() == null || !List.of("system", "user", "assistant", "tool").contains(m.role())) {
        throw new IllegalArgumentException("each message needs a role (system, user, assistant, tool) and content");
      }
    }
    String last = req.messages().get(req.messages().size() - 1).role();
    if (!last.equals("user") && !last.equals("tool")) {
      throw new IllegalArgumentException("the last message must be the user's or a tool's result");
    }
  }

  private static void fail(Message<?> msg, Throwable err) {
    if (err instanceof BusFailure.Failed f) {
      f.failure().fail(msg, f.getMessage());
    } else if (BusFailure.isTransient(err)) {
      // the database is unreachable (restarting, say): fail fast so the client retries
      LOG.warn("turn refused, dependency unavailable: {}", err.toString());
      BusFailure.UNAVAILABLE.fail(msg, "The service is temporarily unavailable; retry shortly.");
    } else {
      LOG.error("turn failed", err);
      BusFailure.INTERNAL.fail(msg, "internal error");
    }
  }
}
