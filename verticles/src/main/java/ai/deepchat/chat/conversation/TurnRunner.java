package ai.deepchat.chat.conversation;

import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.StreamMetrics;
import ai.deepchat.chat.cache.ResponseCache;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.GenerationListener;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.chat.TurnTrace;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.policy.PolicyMetrics;
import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.policy.plugin.PluginOutcome;
import ai.deepchat.policy.plugin.PluginRegistry;
import ai.deepchat.policy.plugin.PostHooks;
import ai.deepchat.policy.plugin.PostResult;
import ai.deepchat.policy.moderation.TenantModeration;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * One acknowledged turn from routing to the stored answer: replay of a stored answer, an FAQ answer,
 * a cached answer, or a generation (with retrieved sources for knowledge questions). The tenant's post
 * hooks run on every complete answer ({@link PostProcessing}); while one of them may rewrite it, the
 * answer is held back and sent as one delta. Events go to the edge's address; the answer row is written
 * once, before the final event, with the text the client got (personal data masked), so a retry after
 * "done" always finds it.
 *
 * <p>The steps (plugins, routing, sources, prompt, the model's stream) are small methods composing
 * futures into the turn's {@link TurnOutcome}. A step starts only while the turn is open; a cancel may
 * come at any time, and {@link #finish} ends the turn once, with whichever outcome came first.
 */
final class TurnRunner {

  private static final Logger LOG = LoggerFactory.getLogger(TurnRunner.class);
  /** The intent recorded for a message the tenant's word list blocked. */
  static final String BLOCKED = "blocked";
  /** The intent recorded for an answer a tenant plugin gave. */
  static final String PLUGIN = "plugin";

  record Deps(Vertx vertx, ConversationStore store, Backends backends, ResponseCache cache, TokenCounter tokens,
              ModerationService moderation, PluginRegistry plugins,
              PlatformConfig.Chat config, CanaryTurn.Routing canary, WorkerExecutor tokenizer) {
  }

  private final Deps deps;
  private final TurnRequest req;
  private final UUID tenantId;
  private final TokenCounter tokens; // the tenant's: counts of texts already counted are remembered
  private final StreamMetrics streamMetrics;
  private final ModelChoice model;
  private final ConversationStore.Begun turn;
  private final SamplingParams sampling;
  private final String blockedReply;
  private final AnswerStream answer;
  private final TraceRecorder trace;
  private final Promise<Void> finished = Promise.promise();
  private final Future<RouteDecision> early; // routed before the turn was stored, for `asked` (null: routed here)
  private final ChatMessage asked;

  // set by the first step: the question as the plugins left it, the post hooks the whole turn sees
  private ChatMessage question;
  private PostHooks postHooks;
  // what the answer depends on, stored with it however the turn ends
  private RouteDecision route = RouteDecision.chat(0);
  private UUID faqEntryId; // the FAQ entry whose answer this turn gave, when it gave one
  private ModelStream stream; // the model's generation, once asked
  private TurnOutcome outcome; // written by finish only: the turn is open while it is null

  /** {@code trace}: the turn's steps since its arrival (traced if asked); {@code early}: {@link EarlyRoute}'s. */
  TurnRunner(Deps deps, TurnRequest req, UUID tenantId, ModelChoice model, ConversationStore.Begun turn,
             SamplingParams sampling, String blockedReply, TraceRecorder trace, Future<RouteDecision> early) {
    this.early = early;
    this.blockedReply = blockedReply;
    this.trace = trace;
    this.deps = deps;
    this.req = req;
    this.tenantId = tenantId;
    this.tokens = deps.tokens().forTenant(tenantId);
    this.model = model;
    this.turn = turn;
    this.sampling = sampling;
    this.question = req.messages().get(req.messages().size() - 1);
    this.asked = question;
    this.postHooks = PostHooks.none(tenantId);
    // keep-alives well within the edge's silence limit, which is longer than the idle timeout
    this.answer = new AnswerStream(deps.vertx(), req.turnId(), req.eventsAddress(),
        Math.max(1, Math.min(1000, deps.config().idleTimeoutMs() / 2)));
    // time to first token counts from here: retrieval, prompt building and queueing are waited for too
    this.streamMetrics = PlatformMetrics.get().startStream(req.tenantId(), modelLabel(model));
  }

  private static String modelLabel(ModelChoice model) {
    return model == null ? null : model.metricsLabel();
  }

  /** Completes once the answer row is written and the last event sent. */
  Future<Void> run() {
    trace.started();
    if (turn.replay() != null) {
      trace.answeredFrom(TurnTrace.FROM_REPLAY);
      ConversationStore.StoredAnswer a = turn.replay();
      answer.whole(a.content(), a.reasoning(), a.citations());
      answer.sendWholeToolCalls(a.toolCalls());
      finish(new TurnOutcome.Replayed(a.intent(), a.usage(), a.finishReason()));
    } else if (blockedReply != null) {
      // the tenant's word list refused the message: its polite reply answers, no model runs
      route = new RouteDecision(BLOCKED, 1, null, null, null, 0);
      trace.answeredFrom(TurnTrace.FROM_BLOCKED);
      answer.whole(blockedReply, null, List.of());
      finish(new TurnOutcome.Refused(Future.succeededFuture(new Usage(0, 0))));
    } else if (turn.stored() != null) {
      // the FAQ's answer was stored with the turn, in its one transaction: it is only sent
      KnownAnswer known = turn.stored();
      route = known.decision();
      faqEntryId = known.faqEntryId();
      answer.whole(known.text(), null, List.of());
      finish(new TurnOutcome.Stored(known.traced()));
    } else {
      plugins().compose(whileOpen(this::answer))
          .otherwise(err -> internalError("The answer could not be produced.", err))
          .onSuccess(this::finish);
    }
    return finished.future();
  }

  /** The client left: stop generating and keep what was delivered. */
  void cancel() {
    finish(new TurnOutcome.Cancelled());
  }

  String turnId() {
    return req.turnId();
  }

  /**
   * {@code step} as the turn's next step, taken only while the turn is open: once it has an outcome (the
   * client left, say) nothing more starts, and that outcome stands.
   */
  private <T> Function<T, Future<TurnOutcome>> whileOpen(Function<T, Future<TurnOutcome>> step) {
    return value -> outcome != null ? Future.succeededFuture(outcome) : step.apply(value);
  }

  /**
   * The tenant's plugins (order status, say) may answer first, or rewrite the question; the post hooks
   * are taken now so that the whole turn, buffering included, sees the same ones. Null when the plugins
   * are unavailable: the turn goes on without them.
   */
  private Future<PluginOutcome> plugins() {
    return deps.plugins().postHooks(tenantId)
        .compose(hooks -> {
          postHooks = constrained() ? PostHooks.none(tenantId) : hooks;
          if (postHooks.buffersAnswer()) {
            answer.buffer(); // a post hook may rewrite the answer: nothing of it is sent before the hooks ran
          }
          // a turn with tools belongs to the caller's agent loop: no plugin answers or rewrites it (nor one
          // with a picture, whose text says nothing of it)
          return toolTurn() || pictureTurn() ? Future.<PluginOutcome>succeededFuture(null)
              : deps.plugins().preProcess(tenantId, question.content());
        })
        .recover(err -> {
          LOG.warn("turn {}: plugins unavailable ({}); continuing without them", req.turnId(), err.toString());
          return Future.succeededFuture(null);
        });
  }

  /**
   * The caller asked for a form only the constrained model guarantees (response_format, a forced tool
   * call): text written elsewhere (an FAQ or handoff reply, a plugin's answer, a footer) would break
   * it, so such turns are the model's alone; the word list still applies (content_filter).
   */
  private boolean constrained() {
    return sampling.constraint() != null;
  }

  /** A plugin's answer, or the question, as the plugins left it, routed and answered. */
  private Future<TurnOutcome> answer(PluginOutcome plugins) {
    if (pictureTurn()) {
      return picture();
    }
    if (plugins != null && plugins.answered() && !constrained()) {
      route = new RouteDecision(PLUGIN, 1, null, null, null, 0);
      trace.answeredFrom(TurnTrace.FROM_PLUGIN);
      return whole(plugins.answer(), null, List.of());
    }
    if (plugins != null && plugins.message() != null && !plugins.message().isBlank()) {
      question = question.withContent(plugins.message());
    }
    // nor does the FAQ, a handoff or retrieval: the model decides which tool to call, or answers
    Future<RouteDecision> routed = toolTurn() ? Future.succeededFuture(RouteDecision.chat(0)) : route();
    return routed.compose(whileOpen(this::answerRouted));
  }

  /** The new message carries a picture (a channel user sent one). */
  private boolean pictureTurn() {
    return req.mediaId() != null;
  }

  /**
   * A picture: a vision-capable version gets it with the text (no FAQ, retrieval or cache: they know only
   * the text); any other version cannot read it, and the user is told so without asking the model.
   */
  private Future<TurnOutcome> picture() {
    if (!model.vision()) {
      return whole(ChatMessages.PICTURE_NOT_READ, null, List.of());
    }
    return deps.store().picture(tenantId, UUID.fromString(req.mediaId()))
        .compose(whileOpen(dataUrl -> {
          question = question.withImage(dataUrl);
          return answerRouted(RouteDecision.chat(0));
        }));
  }

  /** Tools offered, or a tool's result to answer from: the turn is part of the caller's agent loop. */
  private boolean toolTurn() {
    return (req.tools() != null && !req.tools().isEmpty()) || "tool".equals(question.role());
  }

  /**
   * The path the router picked (it retrieves for knowledge questions); unavailable: the model answers.
   * Asked before the turn was stored when the text is still the one asked then (plugins may hand it back).
   */
  private Future<RouteDecision> route() {
    if (early != null && Objects.equals(question.content(), asked.content())) {
      return early;
    }
    return EarlyRoute.ask(deps.vertx(), deps.config(), req.turnId(), req.tenantId(), question.content());
  }

  /**
   * The FAQ's answer, the handoff reply, a cached answer, or the model's (with the sources the router
   * found confident enough for a knowledge question).
   */
  private Future<TurnOutcome> answerRouted(RouteDecision decision) {
    route = decision;
    trace.routed(decision);
    if (RouteDecision.FAQ.equals(decision.intent()) && !constrained()) {
      trace.answeredFrom(TurnTrace.FROM_FAQ);
      faqEntryId = decision.faqId() == null ? null : UUID.fromString(decision.faqId());
      return whole(decision.faqAnswer(), null, List.of());
    }
    if (RouteDecision.HANDOFF.equals(decision.intent()) && !constrained()) {
      return whole(decision.reply(), null, List.of());
    }
    List<RetrievedChunk> chunks = decision.sources() == null ? List.of() : decision.sources();
    if (RouteDecision.KNOWLEDGE.equals(decision.intent()) && chunks.isEmpty()) {
      route = RouteDecision.chat(decision.score());
    }
    // a cached answer has no log-probabilities or tool calls: such turns generate
    boolean deterministic = sampling.temperature() == 0 && !toolTurn() && !pictureTurn() && !sampling.logprobs()
        && turn.history().stream().allMatch(m -> m.role().equals("system"));
    // the key once: it normalizes the whole question (NFKC, case folding)
    ResponseCache.Key key = deterministic ? cacheKey() : null;
    if (key != null) {
      var hit = deps.cache().get(key);
      if (hit.isPresent()) {
        trace.answeredFrom(TurnTrace.FROM_CACHE);
        return whole(hit.get().content(), hit.get().reasoning(), hit.get().citations());
      }
    }
    return generate(chunks, key);
  }

  /** An answer without the model (plugin, FAQ, cache), sent at once: no tokens used. */
  private Future<TurnOutcome> whole(String text, String thinking, List<Citation> cites) {
    answer.whole(text, thinking, cites);
    return Future.succeededFuture(TurnOutcome.complete(new Usage(0, 0), "stop"));
  }

  /** The caller's own system messages and stop sequences shape the answer too, so they are part of the key. */
  private ResponseCache.Key cacheKey() {
    StringBuilder instructions = new StringBuilder();
    turn.history().forEach(m -> instructions.append(m.content()).append('\u0000'));
    return ResponseCache.key(req.tenantId(), instructions + question.content(), route.knowledgeBaseId(),
        route.knowledgeBaseVersion(), model.cacheIdentity() + "|stop=" + sampling.stop()
            + (sampling.constraint() == null ? "" : "|constraint=" + sampling.constraint()), route.intent());
  }

  /** The model's answer; the tenant's word list also watches it as it streams (unreadable: not held). */
  private Future<TurnOutcome> generate(List<RetrievedChunk> chunks, ResponseCache.Key key) {
    return deps.moderation().forTenant(tenantId)
        .map(policy -> {
          answer.moderateWith(policy);
          return policy;
        })
        .otherwise(err -> {
          LOG.warn("turn {}: output moderation unavailable ({})", req.turnId(), err.toString());
          return null;
        })
        .compose(whileOpen(policy -> prompt(chunks, key, policy)));
  }

  /**
   * The prompt ({@link PreparedPrompt}: on the tokenizer pool, or here when every count it needs is remembered),
   * then the model asked. The answer may not recite the tenant's system prompt, whatever the sources or the
   * question ask.
   */
  private Future<TurnOutcome> prompt(List<RetrievedChunk> chunks, ResponseCache.Key key, TenantModeration policy) {
    String systemPrompt = turn.settings().systemPrompt();
    ChatMessage asked = question;
    // the tools offered take their part of the window before any history does
    return PreparedPrompt.prepare(systemPrompt, tokens, deps.tokenizer(), counter -> PromptBuilder.build(systemPrompt,
            chunks, turn.history(), asked, model.contextTokens() - counter.countTools(req.tools()), sampling.maxTokens(),
            counter))
        .compose(whileOpen(prepared -> {
          answer.guardPrompt(prepared.content(), prepared.reasoning());
          return stream(prepared.prompt(), key, policy);
        }), err -> Future.succeededFuture(internalError("The prompt could not be built.", err)));
  }

  /** The model's stream, the sources the prompt used cited first. */
  private Future<TurnOutcome> stream(PromptBuilder.Prompt prompt, ResponseCache.Key key, TenantModeration policy) {
    List<RetrievedChunk> used = prompt.usedSources();
    trace.modelAsked(model, used);
    answer.cite(IntStream.range(0, used.size())
        .mapToObj(i -> new Citation(i + 1, used.get(i).documentTitle(), used.get(i).sectionPath(),
            used.get(i).documentId()))
        .toList());
    stream = new ModelStream(prompt, key, policy);
    return stream.start();
  }

  /** A fault in the turn itself (the prompt could not be built, say): logged, and the client told. */
  private TurnOutcome internalError(String message, Throwable err) {
    LOG.error("turn {}: {}", req.turnId(), message, err);
    return new TurnOutcome.Failed(
        BusFailure.INTERNAL.apiCode(),
        message);
  }

  /**
   * Ends the turn with {@code o}, unless it has ended: the first outcome wins, later ones change nothing.
   * The answer row is written once (a replay's was already), then the last event goes out.
   */
  private void finish(TurnOutcome o) {
    if (outcome != null) {
      if (o != outcome) {
        LOG.debug("turn {}: already ended ({}); {} changes nothing", req.turnId(), outcome, o);
      }
      return;
    }
    outcome = o;
    Future<TurnEvent> last;
    if (o instanceof TurnOutcome.Replayed r) {
      last = Future.succeededFuture(TurnEvent.done(req.turnId(), r.intent(), r.usage(), r.finishReason(), null, 0,
          traced(r.usage())));
    } else if (o instanceof TurnOutcome.Stored s) {
      streamMetrics.finish(StreamMetrics.Outcome.COMPLETE);
      last = Future.succeededFuture(TurnEvent.done(req.turnId(), route.intent(), KnownAnswer.NO_TOKENS, "stop",
          route.faqId(), route.score(), s.trace()));
    } else if (o instanceof TurnOutcome.Complete c) {
      last = c.usage().compose(usage -> complete(usage, c.finishReason()));
    } else if (o instanceof TurnOutcome.Refused r) {
      // the tenant's reply ends the answer: no post hook changes it
      last = r.usage().compose(usage -> store(answer.content(), usage, "content_filter", "blocked"));
    } else if (o instanceof TurnOutcome.Failed f) {
      last = interrupt(StreamMetrics.Outcome.ERROR).map(TurnEvent.error(req.turnId(), f.code(), f.message()));
    } else {
      if (stream != null) {
        stream.cancel();
      }
      last = interrupt(StreamMetrics.Outcome.CANCELLED).mapEmpty();
    }
    last.onComplete(event -> {
      if (event.failed()) {
        LOG.error("turn {}: could not be ended", req.turnId(), event.cause());
      } else if (event.result() != null) {
        answer.send(event.result());
      }
      finished.tryComplete();
    });
  }

  /** A complete answer: the post hooks run, the client gets what it has not seen yet, then it is stored. */
  private Future<TurnEvent> complete(Usage usage, String finishReason) {
    String text = answer.content();
    // hooks may take seconds each: the edge must not take the silence for a dead pipeline
    long keepAlive = postHooks.isEmpty() ? -1
        : deps.vertx().setPeriodic(answer.keepAliveMs(), t -> answer.send(TurnEvent.keepAlive(req.turnId())));
    return PostProcessing.run(postHooks, deps.moderation(), tenantId, question.content(), text)
        .otherwise(PostResult.keep())
        .compose(change -> {
          deps.vertx().cancelTimer(keepAlive);
          // a replacement comes only from a hook that rewrites, so the answer was buffered
          if (!answer.buffered() && change.kind() == PostResult.Kind.APPEND) {
            answer.send(TurnEvent.delta(req.turnId(), change.text(), null));
          }
          return store(change.applyTo(text), usage, finishReason, "complete");
        });
  }

  /** Stores the final answer (sent first as one delta when buffered); "done" ends it, or the storage error. */
  private Future<TurnEvent> store(String text, Usage usage, String finishReason, String status) {
    streamMetrics.finish(StreamMetrics.Outcome.COMPLETE);
    String thinking = answer.reasoning();
    if (answer.buffered() && !(text.isEmpty() && thinking.isEmpty())) {
      answer.send(TurnEvent.delta(req.turnId(), text.isEmpty() ? null : text, thinking.isEmpty() ? null : thinking));
    }
    if (answer.buffered()) {
      answer.sendWholeToolCalls(answer.toolCalls());
    }
    TurnTrace traced = traced(usage);
    return deps.store().finish(tenantId, turn.conversationId(), turn.assistantMessageId(), status, text,
            thinking, answer.citations(), route.intent(), route.score(), usage, traced, finishReason,
            answer.toolCalls(), trace.timing(), faqEntryId)
        .map(stored -> TurnEvent.done(req.turnId(), route.intent(), usage, finishReason, route.faqId(), route.score(),
            traced))
        .otherwise(err -> {
          LOG.error("turn {}: the answer could not be stored", req.turnId(), err);
          return TurnEvent.error(req.turnId(),
              BusFailure.STORAGE_ERROR.apiCode(),
              "The answer could not be stored.");
        });
  }

  /** The turn's trace when it asked for one, else null: nothing is built for a turn that did not ask. */
  private TurnTrace traced(Usage usage) {
    return req.trace() ? trace.build(usage, answer.outputWords()) : null;
  }

  /**
   * Stores what was delivered as 'interrupted', with the model's tokens; a buffered answer was not
   * delivered at all. Never fails: the client gets its last event even when the row was not written.
   */
  private Future<Void> interrupt(StreamMetrics.Outcome metric) {
    streamMetrics.finish(metric);
    return deliveredUsage()
        .compose(usage -> deps.store().finish(tenantId, turn.conversationId(), turn.assistantMessageId(),
            "interrupted", answer.buffered() ? "" : answer.content(), answer.buffered() ? "" : answer.reasoning(),
            answer.citations(), route.intent(), route.score(), usage, traced(usage), null, answer.toolCalls(),
            trace.timing()))
        .recover(err -> {
          LOG.error("turn {}: the interrupted answer could not be stored", req.turnId(), err);
          return Future.succeededFuture();
        });
  }

  /**
   * The usage of what was delivered, counted (on a worker: the tokenizer is native code) when the backend
   * did not report it (cancelled, refused, remote); 0 completion tokens when they cannot be counted.
   */
  private Future<Usage> deliveredUsage() {
    String c = answer.content();
    String r = answer.reasoning();
    // the answer's text comes back as history in the next turn (remembered); its reasoning never does
    return deps.tokenizer().executeBlocking(() -> tokens.count(c) + deps.tokens().count(r), false)
        .otherwise(0)
        .map(delivered -> new Usage(stream == null ? 0 : stream.promptTokens(), delivered));
  }

  /**
   * One generation of the model: its deltas reach the client through the answer's guards and word list,
   * its end becomes the turn's outcome, and rollout routing learns how it went ({@link CanaryTurn}).
   */
  private final class ModelStream implements GenerationListener {

    private final PromptBuilder.Prompt prompt;
    private final ResponseCache.Key key;
    private final TenantModeration policy;
    private final CanaryTurn canary = new CanaryTurn(deps.canary(), model);
    private final Promise<TurnOutcome> result = Promise.promise();
    private Generation generation;

    /** {@code key}: where a complete answer is cached (null: not cached); {@code policy} null: no word list. */
    ModelStream(PromptBuilder.Prompt prompt, ResponseCache.Key key, TenantModeration policy) {
      this.prompt = prompt;
      this.key = key;
      this.policy = policy;
    }

    Future<TurnOutcome> start() {
      generation = deps.backends().forChoice(model).start(req.turnId(), req.tenantId(), prompt.messages(), sampling,
          PromptBuilder.neutralizedTools(req.tools()), this);
      return result.future();
    }

    int promptTokens() {
      return prompt.promptTokens();
    }

    void cancel() {
      if (generation != null) {
        generation.cancel();
      }
    }

    /** The generation or the turn has ended: what the backend still sends changes nothing. */
    private boolean over() {
      return outcome != null || result.future().isComplete();
    }

    @Override
    public void onDelta(String c, String r) {
      onDelta(c, r, null);
    }

    @Override
    public void onDelta(String c, String r, EngineStamp stamp) {
      onDelta(c, r, stamp, null);
    }

    @Override
    public void onDelta(String c, String r, EngineStamp stamp, List<TokenLogprob> logprobs) {
      if (over()) {
        return;
      }
      answer.logprobs(logprobs);
      canary.onToken();
      trace.token();
      AnswerStream.Stop stop = answer.modelDelta(c, r, stamp);
      streamMetrics.tokens(1); // a backend delta carries one token (engine and OpenAI-style streams)
      if (stop != AnswerStream.Stop.NONE) {
        refuse(stop);
      }
    }

    @Override
    public void onToolCalls(List<ToolCallDelta> pieces) {
      if (over()) {
        return;
      }
      canary.onToken();
      trace.token();
      answer.toolCalls(pieces);
      streamMetrics.tokens(1);
    }

    /** The answer recited the system prompt or reached a blocked word: it stops there, the tenant's reply ends it. */
    private void refuse(AnswerStream.Stop stop) {
      generation.cancel();
      trace.outputStopped(stop);
      if (stop == AnswerStream.Stop.PROMPT_LEAK) {
        LOG.warn("turn {}: the answer recited the system prompt; stopped", req.turnId());
        PolicyMetrics.promptLeak();
      }
      if (policy != null) {
        answer.deliver("\n\n" + policy.blockedReply(), null, null);
      }
      result.complete(new TurnOutcome.Refused(reported(deliveredUsage(), true)));
    }

    @Override
    public void onDone(String finishReason, Usage usage) {
      if (over()) {
        return;
      }
      answer.releaseHeldBack();
      answer.flushLogprobs();
      if (key != null && "stop".equals(finishReason)) {
        deps.cache().put(key, new ResponseCache.Answer(answer.content(), answer.reasoning(), answer.citations()));
      }
      canary.shadow(deps.backends(), req.turnId(), tenantId, turn.conversationId(), prompt.messages(), sampling,
          question.content(), answer.content());
      Future<Usage> known = usage != null ? Future.succeededFuture(usage) : deliveredUsage();
      result.complete(new TurnOutcome.Complete(reported(known, false), finishReason));
    }

    /** {@code usage}, told to rollout routing as soon as it is known. */
    private Future<Usage> reported(Future<Usage> usage, boolean moderationHit) {
      return usage.onSuccess(u -> canary.onDone(u.completionTokens(), moderationHit));
    }

    @Override
    public void onFallback(String code, String message) {
      canary.onFallback(code);
      trace.fellBack(code);
    }

    @Override
    public void onError(String code, String message) {
      if (!over()) {
        canary.onError(code);
        result.complete(new TurnOutcome.Failed(code, message));
      }
    }
  }
}
