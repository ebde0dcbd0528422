package ai.deepchat.chat.conversation;

import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.TenantLabels;
import ai.deepchat.platform.metrics.StreamMetrics;
import ai.deepchat.chat.cache.ResponseCache;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.GenerationListener;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.TokenCounter;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.chat.ChatMessages.TurnRequest;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import ai.deepchat.policy.PolicyMetrics;
import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.policy.moderation.PromptLeakGuard;
import ai.deepchat.policy.plugin.PluginRegistry;
import ai.deepchat.policy.plugin.PostHooks;
import ai.deepchat.policy.plugin.PostResult;
import ai.deepchat.policy.moderation.TenantModeration;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One acknowledged turn from routing to the stored answer: replay of a stored answer, an FAQ answer,
 * a cached answer, or a generation (with retrieved sources for knowledge questions). The tenant's post
 * hooks run on every complete answer ({@link PostProcessing}); while one of them may rewrite it, the
 * answer is held back and sent as one delta. Events go to the edge's address; the answer row is written
 * once, before the final event, with the text the client got (personal data masked), so a retry after
 * "done" always finds it.
 */
final class TurnRunner {

  private static final Logger LOG = LoggerFactory.getLogger(TurnRunner.class);
  static final int RETRIEVAL_TOP_K = 5;
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
  private final StreamMetrics streamMetrics;
  private final ModelChoice model;
  private final ConversationStore.Begun turn;
  private final SamplingParams sampling;
  private ChatMessage question;
  private final Promise<Void> finished = Promise.promise();
  private final String blockedReply;
  private PostHooks postHooks;
  private final AnswerStream answer;
  private TenantModeration outputPolicy;

  private GenerationListener.Generation generation;
  private RouteDecision route = RouteDecision.chat(0);
  private List<Citation> citations = List.of();
  private int promptTokens;
  private boolean ended;

  TurnRunner(Deps deps, TurnRequest req, UUID tenantId, ModelChoice model, ConversationStore.Begun turn,
             SamplingParams sampling, String blockedReply) {
    this.blockedReply = blockedReply;
    this.deps = deps;
    this.req = req;
    this.tenantId = tenantId;
    this.model = model;
    this.turn = turn;
    this.sampling = sampling;
    this.question = req.messages().get(req.messages().size() - 1);
    this.postHooks = PostHooks.none(tenantId);
    // keep-alives well within the edge's silence limit, which is longer than the idle timeout
    this.answer = new AnswerStream(deps.vertx(), req.turnId(), req.eventsAddress(),
        Math.max(1, Math.min(1000, deps.config().idleTimeoutMs() / 2)));
    // time to first token counts from here: retrieval, prompt building and queueing are waited for too
    this.streamMetrics = PlatformMetrics.get().startStream(req.tenantId(), modelLabel(model));
  }

  /**
   * The {@code model} label: the platform's models by name; a tenant's registered version by an opaque
   * hash of its id, never the name the tenant chose (rollout routing says whose it is; without it a
   * registered version is the tenant's own).
   */
  private static String modelLabel(ModelChoice model) {
    if (model == null || model.versionId() == null) {
      return model == null ? null : model.name();
    }
    boolean platformVersion = model.assignment() != null && model.assignment().version().tenantId() == null;
    return platformVersion ? model.name() : TenantLabels.opaque(model.versionId());
  }

  Future<Void> run() {
    if (turn.replay() != null) {
      ConversationStore.StoredAnswer a = turn.replay();
      answer.whole(a.content(), a.reasoning(), a.citations());
      end(TurnEvent.done(req.turnId(), a.intent(), a.usage(), "stop"));
      return finished.future();
    }
    if (blockedReply != null) {
      // the tenant's word list refused the message: its polite reply answers, no model runs
      route = new RouteDecision(BLOCKED, 1, null, null, null, 0);
      answer.whole(blockedReply, null, List.of());
      store(answer.content(), new Usage(0, 0), "content_filter", "blocked");
      return finished.future();
    }
    // the tenant's plugins (order status, say) may answer first, or rewrite the question; the post hooks
    // are taken now so that the whole turn, buffering included, sees the same ones
    deps.plugins().postHooks(tenantId)
        .compose(hooks -> {
          postHooks = hooks;
          if (hooks.buffersAnswer()) {
            answer.buffer(); // a post hook may rewrite the answer: nothing of it is sent before the hooks ran
          }
          return deps.plugins().preProcess(tenantId, question.content());
        })
        .recover(err -> {
          LOG.warn("turn {}: plugins unavailable ({}); continuing without them", req.turnId(), err.toString());
          return Future.succeededFuture(null);
        })
        .onSuccess(outcome -> {
          if (ended) {
            return;
          }
          if (outcome != null && outcome.answered()) {
            route = new RouteDecision(PLUGIN, 1, null, null, null, 0);
            answer.whole(outcome.answer(), null, List.of());
            complete(new Usage(0, 0), "stop");
            return;
          }
          if (outcome != null && outcome.message() != null && !outcome.message().isBlank()) {
            question = new ChatMessage(question.role(), outcome.message());
          }
          route();
        });
    return finished.future();
  }

  private void route() {
    deps.vertx().eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE, new RouteRequest(req.tenantId(), question.content()),
            new DeliveryOptions().setSendTimeout(deps.config().requestTimeoutMs()))
        .map(msg -> msg.body())
        .recover(err -> {
          LOG.warn("turn {}: intent routing unavailable ({}); answering with the model", req.turnId(), err.getMessage());
          return Future.succeededFuture(RouteDecision.chat(0));
        })
        .onSuccess(this::onRoute);
  }

  /** The client left: stop generating and keep what was delivered. */
  void cancel() {
    if (ended) {
      return;
    }
    if (generation != null) {
      generation.cancel();
    }
    interrupt(null);
  }

  private void onRoute(RouteDecision decision) {
    if (ended) {
      return;
    }
    route = decision;
    if (RouteDecision.FAQ.equals(decision.intent())) {
      answer.whole(decision.faqAnswer(), null, List.of());
      complete(new Usage(0, 0), "stop");
      return;
    }
    boolean deterministic = sampling.temperature() == 0
        && turn.history().stream().allMatch(m -> m.role().equals("system"));
    ResponseCache.Key key = deterministic ? cacheKey() : null;
    if (key != null) {
      var hit = deps.cache().get(key);
      if (hit.isPresent()) {
        citations = hit.get().citations();
        answer.whole(hit.get().content(), hit.get().reasoning(), citations);
        complete(new Usage(0, 0), "stop");
        return;
      }
    }
    Future<List<RetrievedChunk>> sources = RouteDecision.KNOWLEDGE.equals(decision.intent())
        ? retrieve(decision) : Future.succeededFuture(List.of());
    sources.onSuccess(chunks -> {
      if (ended) {
        return;
      }
      if (RouteDecision.KNOWLEDGE.equals(route.intent()) && chunks.isEmpty()) {
        route = RouteDecision.chat(route.score());
      }
      generate(chunks, deterministic ? cacheKey() : null);
    });
  }

  /** The caller's own system messages and stop sequences shape the answer too, so they are part of the key. */
  private ResponseCache.Key cacheKey() {
    StringBuilder instructions = new StringBuilder();
    turn.history().forEach(m -> instructions.append(m.content()).append('\u0000'));
    return ResponseCache.key(req.tenantId(), instructions + question.content(), route.knowledgeBaseId(),
        route.knowledgeBaseVersion(), model.cacheIdentity() + "|stop=" + sampling.stop(), route.intent());
  }

  private Future<List<RetrievedChunk>> retrieve(RouteDecision decision) {
    return deps.vertx().eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(req.tenantId(), decision.knowledgeBaseId(), question.content(), RETRIEVAL_TOP_K),
            new DeliveryOptions().setSendTimeout(deps.config().retrievalTimeoutMs()))
        .map(msg -> {
          RetrieveReply reply = msg.body();
          // the knowledge-base version retrieval saw is what the answer depends on
          route = new RouteDecision(route.intent(), route.score(), null, null, reply.knowledgeBaseId(),
              reply.knowledgeBaseVersion());
          return reply.hits() == null ? List.<RetrievedChunk>of() : reply.hits();
        })
        .recover(err -> {
          LOG.warn("turn {}: retrieval unavailable ({}); answering without the knowledge base", req.turnId(),
              err.getMessage());
          return Future.succeededFuture(List.of());
        });
  }

  private void generate(List<RetrievedChunk> chunks, ResponseCache.Key key) {
    // the tenant's word list also watches the answer as it streams; unreadable: the answer is not held
    deps.moderation().forTenant(tenantId).onComplete(tm -> {
      if (tm.succeeded()) {
        outputPolicy = tm.result();
        answer.moderateWith(outputPolicy);
      } else {
        LOG.warn("turn {}: output moderation unavailable ({})", req.turnId(), tm.cause().toString());
      }
      if (!ended) {
        buildAndGenerate(chunks, key);
      }
    });
  }

  private void buildAndGenerate(List<RetrievedChunk> chunks, ResponseCache.Key key) {
    // token counting runs the tokenizer (native code): on the tokenizer pool
    String systemPrompt = turn.settings().systemPrompt();
    // the answer may not recite the tenant's system prompt, whatever the sources or the question ask
    record Prepared(PromptBuilder.Prompt prompt, PromptLeakGuard content, PromptLeakGuard reasoning) {
    }
    deps.tokenizer().executeBlocking(() -> new Prepared(PromptBuilder.build(systemPrompt, chunks, turn.history(),
            question, model.contextTokens(), sampling.maxTokens(), deps.tokens()),
            PromptLeakGuard.forPrompt(systemPrompt), PromptLeakGuard.forPrompt(systemPrompt)), false)
        .onSuccess(prepared -> {
          if (!ended) {
            answer.guardPrompt(prepared.content(), prepared.reasoning());
            generate(prepared.prompt(), key);
          }
        })
        .onFailure(err -> {
          LOG.error("turn {}: the prompt could not be built", req.turnId(), err);
          interrupt(TurnEvent.error(req.turnId(), "internal_error", "The prompt could not be built."));
        });
  }

  private void generate(PromptBuilder.Prompt prompt, ResponseCache.Key key) {
    promptTokens = prompt.promptTokens();
    List<Citation> cites = new ArrayList<>();
    for (int i = 0; i < prompt.usedSources().size(); i++) {
      RetrievedChunk c = prompt.usedSources().get(i);
      cites.add(new Citation(i + 1, c.documentTitle(), c.sectionPath(), c.documentId()));
    }
    citations = List.copyOf(cites);
    if (!citations.isEmpty()) {
      answer.send(TurnEvent.citations(req.turnId(), citations));
    }
    CanaryTurn outcome = new CanaryTurn(deps.canary(), model);
    generation = deps.backends().forChoice(model).start(req.turnId(), req.tenantId(), prompt.messages(), sampling,
        new GenerationListener() {
          @Override
          public void onDelta(String c, String r) {
            onDelta(c, r, null);
          }

          @Override
          public void onDelta(String c, String r, EngineStamp stamp) {
            if (ended) {
              return;
            }
            outcome.onToken();
            AnswerStream.Stop stop = answer.modelDelta(c, r, stamp);
            streamMetrics.tokens(1); // a backend delta carries one token (engine and OpenAI-style streams)
            if (stop != AnswerStream.Stop.NONE) {
              // the answer recited the system prompt or reached a blocked word: stop it there and end with
              // the tenant's reply
              generation.cancel();
              if (stop == AnswerStream.Stop.PROMPT_LEAK) {
                LOG.warn("turn {}: the answer recited the system prompt; stopped", req.turnId());
                PolicyMetrics.promptLeak();
              }
              if (outputPolicy != null) {
                answer.deliver("\n\n" + outputPolicy.blockedReply(), null, null);
              }
              ended = true;
              deliveredTokens().onComplete(n -> {
                outcome.onDone(n.succeeded() ? n.result() : 0, true);
                // a refusal: the tenant's reply ends the answer, no post hook changes it
                store(answer.content(), new Usage(promptTokens, n.succeeded() ? n.result() : 0), "content_filter",
                    "blocked");
              });
            }
          }

          @Override
          public void onDone(String finishReason, Usage usage) {
            if (ended) {
              return;
            }
            answer.releaseHeldBack();
            if (key != null && "stop".equals(finishReason)) {
              deps.cache().put(key, new ResponseCache.Answer(answer.content(), answer.reasoning(), citations));
            }
            outcome.shadow(deps.backends(), req.turnId(), tenantId, turn.conversationId(), prompt.messages(), sampling,
                question.content(), answer.content());
            if (usage != null) {
              outcome.onDone(usage.completionTokens(), false);
              complete(usage, finishReason);
            } else {
              ended = true;
              deliveredTokens().onComplete(n -> {
                outcome.onDone(n.succeeded() ? n.result() : 0, false);
                complete(new Usage(promptTokens, n.succeeded() ? n.result() : 0), finishReason);
              });
            }
          }

          @Override
          public void onFallback(String code, String message) {
            outcome.onFallback(code);
          }

          @Override
          public void onError(String code, String message) {
            if (!ended) {
              outcome.onError(code);
            }
            interrupt(TurnEvent.error(req.turnId(), code, message));
          }
        });
  }

  /** The model's tokens so far, counted when the backend did not report them (cancelled or remote). */
  private Future<Integer> deliveredTokens() {
    String c = answer.content();
    String r = answer.reasoning();
    return deps.tokenizer().executeBlocking(() -> deps.tokens().count(c) + deps.tokens().count(r), false);
  }

  /** A complete answer: the post hooks run, the client gets what it has not seen yet, then it is stored. */
  private void complete(Usage usage, String finishReason) {
    ended = true;
    String text = answer.content();
    // hooks may take seconds each: the edge must not take the silence for a dead pipeline
    long keepAlive = postHooks.isEmpty() ? -1
        : deps.vertx().setPeriodic(answer.keepAliveMs(), t -> answer.send(TurnEvent.keepAlive(req.turnId())));
    PostProcessing.run(postHooks, deps.moderation(), tenantId, question.content(), text).onComplete(post -> {
      deps.vertx().cancelTimer(keepAlive);
      PostResult change = post.succeeded() ? post.result() : PostResult.keep();
      // a replacement comes only from a hook that rewrites, so the answer was buffered
      if (!answer.buffered() && change.kind() == PostResult.Kind.APPEND) {
        answer.send(TurnEvent.delta(req.turnId(), change.text(), null));
      }
      store(change.applyTo(text), usage, finishReason, "complete");
    });
  }

  /** Stores the final answer (sent first as one delta when buffered), then ends with "done". */
  private void store(String text, Usage usage, String finishReason, String status) {
    streamMetrics.finish(StreamMetrics.Outcome.COMPLETE);
    ended = true;
    String thinking = answer.reasoning();
    if (answer.buffered() && !(text.isEmpty() && thinking.isEmpty())) {
      answer.send(TurnEvent.delta(req.turnId(), text.isEmpty() ? null : text, thinking.isEmpty() ? null : thinking));
    }
    deps.store().finish(tenantId, turn.conversationId(), turn.assistantMessageId(), status, text,
            thinking, citations, route.intent(), route.score(), usage)
        .onComplete(stored -> {
          if (stored.failed()) {
            LOG.error("turn {}: the answer could not be stored", req.turnId(), stored.cause());
            end(TurnEvent.error(req.turnId(), "storage_error", "The answer could not be stored."));
          } else {
            end(TurnEvent.done(req.turnId(), route.intent(), usage, finishReason));
          }
        });
  }

  /**
   * Stores what was delivered as 'interrupted' (with the model's tokens), then sends {@code last} if any.
   * A buffered answer was not delivered at all.
   */
  private void interrupt(TurnEvent last) {
    if (ended) {
      return;
    }
    ended = true;
    streamMetrics.finish(last == null ? StreamMetrics.Outcome.CANCELLED : StreamMetrics.Outcome.ERROR);
    deliveredTokens().recover(err -> Future.succeededFuture(0))
        .compose(delivered -> deps.store().finish(tenantId, turn.conversationId(), turn.assistantMessageId(),
            "interrupted", answer.buffered() ? "" : answer.content(), answer.buffered() ? "" : answer.reasoning(),
            citations,
            route.intent(), route.score(),
            new Usage(generation == null ? 0 : promptTokens, delivered)))
        .onComplete(stored -> {
          if (stored.failed()) {
            LOG.error("turn {}: the interrupted answer could not be stored", req.turnId(), stored.cause());
          }
          if (last != null) {
            answer.send(last);
          }
          finished.tryComplete();
        });
  }

  private void end(TurnEvent last) {
    ended = true;
    answer.send(last);
    finished.tryComplete();
  }

  String turnId() {
    return req.turnId();
  }
}
