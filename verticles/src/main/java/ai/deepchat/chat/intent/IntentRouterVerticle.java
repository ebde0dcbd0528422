package ai.deepchat.chat.intent;

import ai.deepchat.chat.cache.QuestionNormalizer;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.TenantModelDispatcher;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.cache.TenantCache;
import ai.deepchat.platform.chat.ChatMessages.FaqCandidate;
import ai.deepchat.platform.chat.ChatMessages.QueryTranslation;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.chat.ChatMessages.RouteScores;
import ai.deepchat.platform.chat.ChatMessages.RouteThresholds;
import ai.deepchat.platform.chat.ChatMessages.TranslateRequest;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.RecentVectors;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.rag.Confidence;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import com.github.benmanes.caffeine.cache.Cache;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * Decides per tenant which path answers a question, from scores against the tenant's thresholds: a
 * forcing rule (keyword or regex, by priority); else clear small talk (greetings, thanks, plain tasks,
 * well above its threshold and above every FAQ entry) goes to the model without sources; else the
 * best FAQ entry at the FAQ threshold (the normalized question equal to an entry's scores 1, else the
 * cosine of bge embeddings of the normalized texts plus a little for the terms they share); else the knowledge base when retrieval is confident (its best passage at the knowledge
 * threshold; only passages at the citation threshold become sources); else the tenant's handoff
 * reply, or the model when the tenant chose so or has no knowledge base. The reply is one
 * {@link RouteDecision} with every score it was decided from. A question is embedded only when a
 * score can change the path (a tenant with neither FAQ entries nor a ready knowledge base gets the
 * model, so its questions are not), and once per tenant while it is recent ({@link RecentVectors}).
 * Routing data (FAQ vectors included) is cached per tenant, dropped on {@link Addresses#POLICY_CHANGED} (FAQ, rule and settings edits) and
 * after a few seconds anyway, since the bus is best-effort.
 */
public final class IntentRouterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(IntentRouterVerticle.class);
  static final Duration DATA_TTL = Duration.ofSeconds(30);
  /** Candidates listed in a decision (the console's FAQ match test shows them). */
  static final int FAQ_CANDIDATES = 5;
  static final int RETRIEVAL_TOP_K = Confidence.TOP_K;
  /**
   * Small talk this far above its threshold is answered by the model without retrieval; nearer the
   * threshold ("summarize this", "write a poem about the lamp") a confident knowledge base wins.
   */
  static final double CLEAR_SMALL_TALK = 0.10;
  /** An FAQ entry's score: the cosine, plus this times the share of its terms the question has. */
  static final double SHARED_TERMS_WEIGHT = 0.10;
  /** Longest question whose text-only small-talk check runs on the event loop (two regular expressions over it). */
  static final int LEXICAL_ON_LOOP_CHARS = 2_000;

  private final Platform platform;
  /** FAQ questions and the asked question are compared as texts of one kind (no query instruction). */
  private final Embedder faqModel;
  private final Shared shared;
  private final SmallTalk smallTalk;
  private WorkerExecutor embeddings;
  private TenantCache<RoutingData> data;
  private Backends backends;
  private QueryTranslator translator;
  /** The node-local address of this instance's event loop ({@link RouteLoops}), or null. */
  private String loopAddress;

  /** {@code faqModel}: the embedding model of FAQ matching (the launcher passes bge-small-zh). */
  public IntentRouterVerticle(Platform platform, Embedder faqModel) {
    this(platform, faqModel, new Shared(faqModel));
  }

  private IntentRouterVerticle(Platform platform, Embedder faqModel, Shared shared) {
    this.platform = platform;
    this.faqModel = faqModel;
    this.shared = shared;
    this.smallTalk = shared.smallTalk;
  }

  /**
   * Routers for every event loop of a node ({@link RouteLoops}): they share one cache of routing data, the
   * small-talk vectors and the query translations (all thread-safe), so more loops load, embed and translate
   * no more (a question translated on one loop is not asked of the model again on another).
   */
  static java.util.function.Supplier<IntentRouterVerticle> onEveryLoop(Platform platform, Embedder faqModel) {
    Shared shared = new Shared(faqModel);
    return () -> new IntentRouterVerticle(platform, faqModel, shared);
  }

  /** What the instances made by one supplier share; the routing data's cache is made by the first to start. */
  private static final class Shared {
    final SmallTalk smallTalk;
    final Cache<QueryTranslator.Key, String> translations = QueryTranslator.newCache();
    private TenantCache<RoutingData> data;

    Shared(Embedder faqModel) {
      this.smallTalk = new SmallTalk(faqModel);
    }

    synchronized TenantCache<RoutingData> data(java.util.function.Supplier<TenantCache<RoutingData>> create) {
      if (data == null) {
        data = create.get();
      }
      return data;
    }
  }

  @Override
  public Future<?> start() {
    embeddings = WorkerPools.of(vertx).open(WorkerPools.Kind.EMBEDDINGS);
    backends = new Backends(vertx, platform.config().chat(), OutboundPolicy.of(platform.config()));
    translator = new QueryTranslator(vertx, platform.database(),
        new TenantModelDispatcher(platform.database(), platform.config()), backends, shared.translations);
    data = shared.data(() -> TenantCache.create(vertx, DATA_TTL,
        tenantId -> RoutingData.load(embeddings, faqModel, platform.database(), tenantId)));
    loopAddress = RouteLoops.LOOPS.claim(vertx);
    List<Future<?>> consumers = new ArrayList<>(List.of(
        vertx.eventBus().<RouteRequest>consumer(Addresses.CHAT_ROUTE, this::onRoute).completion(),
        vertx.eventBus().<TranslateRequest>consumer(Addresses.CHAT_TRANSLATE, this::onTranslate).completion(),
        data.ready()));
    if (loopAddress != null) {
      consumers.add(vertx.eventBus().<RouteRequest>localConsumer(loopAddress, this::onRoute).completion());
    }
    return Future.all(consumers);
  }

  @Override
  public Future<?> stop() {
    if (loopAddress != null) {
      RouteLoops.LOOPS.release(vertx, loopAddress);
    }
    if (backends != null) {
      backends.close();
    }
    return Future.succeededFuture();
  }

  private void onRoute(Message<RouteRequest> msg) {
    RouteRequest req = msg.body();
    UUID tenantId = tenantOf(msg, req.tenantId());
    if (tenantId == null) {
      return;
    }
    String text = req.text() == null ? "" : req.text();
    data.get(tenantId).compose(d -> decide(tenantId, d, text))
        .onSuccess(msg::reply)
        .onFailure(err -> {
          LOG.warn("routing failed for tenant {}; answering with the model", tenantId, err);
          msg.reply(RouteDecision.chat(0));
        });
  }

  /** A question translated as routing would search it (for evaluation runs); never fails but on a bad tenant. */
  private void onTranslate(Message<TranslateRequest> msg) {
    UUID tenantId = tenantOf(msg, msg.body().tenantId());
    if (tenantId != null) {
      translator.translate(tenantId, msg.body().text() == null ? "" : msg.body().text()).onSuccess(msg::reply);
    }
  }

  /** The request's tenant, or null: the request was answered as invalid. */
  private static UUID tenantOf(Message<?> msg, String tenantId) {
    try {
      return UUID.fromString(tenantId);
    } catch (IllegalArgumentException | NullPointerException e) {
      BusFailure.INVALID_REQUEST.fail(msg, "bad tenant id");
      return null;
    }
  }

  /** What the embeddings said of one question: FAQ candidates best first, and the small-talk score. */
  private record Similarity(List<FaqCandidate> candidates, RoutingData.Faq best, double smallTalk) {
    static final Similarity NONE = new Similarity(List.of(), null, 0);

    double faq() {
      return candidates.isEmpty() ? 0 : candidates.get(0).score();
    }
  }

  private Future<RouteDecision> decide(UUID tenantId, RoutingData d, String text) {
    String tenant = tenantId.toString();
    String forced = forcedIntent(d, text);
    Decider decider = new Decider(d, text);
    if (RouteDecision.CHAT.equals(forced)) {
      return Future.succeededFuture(decider.chat(1, Similarity.NONE, "a forcing rule chose the model"));
    }
    if (RouteDecision.HANDOFF.equals(forced)) {
      return Future.succeededFuture(decider.person(Similarity.NONE, "a forcing rule chose a person"));
    }
    if (RouteDecision.KNOWLEDGE.equals(forced)) {
      long asked = System.nanoTime();
      return retrieve(tenant, d, text).map(r -> decider.retrievedIn(asked, r.translation())
          .knowledge(Similarity.NONE, r.reply(), true));
    }
    boolean forcedFaq = RouteDecision.FAQ.equals(forced);
    return similar(tenantId, d, text)
        .recover(err -> {
          LOG.warn("embedding failed; FAQ and small-talk matching skipped", err);
          return Future.succeededFuture(Similarity.NONE);
        })
        .compose(sim -> {
          boolean faqAnswers = sim.best() != null && (forcedFaq || sim.faq() >= d.thresholds().faq());
          if (!faqAnswers && forced == null && PersonRequest.asked(text)) {
            // after FAQ matching: a tenant whose FAQ answers "how do I reach a person" chose that answer
            return Future.succeededFuture(decider.person(sim, "the visitor asked for a person"));
          }
          boolean clearSmallTalk = sim.smallTalk() >= d.thresholds().smallTalk() + CLEAR_SMALL_TALK;
          if (clearSmallTalk && sim.smallTalk() > sim.faq() && !forcedFaq) {
            // "how is your day going" is nearer small talk than any FAQ entry, however near one it is
            return Future.succeededFuture(decider.chat(sim.smallTalk(), sim, "small talk"));
          }
          if (faqAnswers) {
            return Future.succeededFuture(decider.faq(sim, forcedFaq));
          }
          if (!d.knowledgeReady()) {
            return Future.succeededFuture(sim.smallTalk() >= d.thresholds().smallTalk()
                ? decider.chat(sim.smallTalk(), sim, "small talk")
                : decider.chat(0, sim, "no knowledge base with ready documents"));
          }
          long asked = System.nanoTime();
          return retrieve(tenant, d, text).map(r -> decider.retrievedIn(asked, r.translation())
              .knowledge(sim, r.reply(), false));
        });
  }

  private static String forcedIntent(RoutingData d, String text) {
    String folded = QuestionNormalizer.normalize(text);
    for (RoutingData.Rule rule : d.rules()) {
      boolean hit = rule.kind().equals("keyword")
          ? folded.contains(QuestionNormalizer.normalize(rule.pattern()))
          : BoundedRegex.find(rule.regex(), text);
      if (hit) {
        return rule.intent();
      }
    }
    return null;
  }

  /**
   * The knowledge base's top hits; null when retrieval is unavailable (the model answers then). With the
   * tenant's query translation on, the question's translation by its own model is searched beside it.
   */
  private Future<Retrieved> retrieve(String tenant, RoutingData d, String text) {
    if (!d.knowledgeReady() || text.isBlank()) {
      return Future.succeededFuture(new Retrieved(null, null));
    }
    Future<QueryTranslation> translation = d.translateQueries() ? translator.translate(UUID.fromString(tenant), text)
        : Future.succeededFuture(QueryTranslation.not(QueryTranslation.OFF, 0, null));
    return translation.compose(translated -> vertx.eventBus().<RetrieveReply>request(Addresses.RAG_RETRIEVE,
            new RetrieveRequest(tenant, d.knowledgeBaseId(), text, RETRIEVAL_TOP_K, translated.searched()),
            new DeliveryOptions().setSendTimeout(platform.config().chat().retrievalTimeoutMs()))
        .map(reply -> new Retrieved(reply.body(), translated))
        .recover(err -> {
          LOG.warn("retrieval unavailable ({}); the model answers without the knowledge base", err.getMessage());
          return Future.succeededFuture(new Retrieved(null, translated));
        }));
  }

  /** Retrieval's reply (null: unavailable) and the translation searched beside the question. */
  private record Retrieved(RetrieveReply reply, QueryTranslation translation) {
  }

  /**
   * {@link #similarity} on the embeddings pool, or here on the event loop where nothing is embedded and the
   * text is short and folds without ICU (no char from the CJK radicals up): a few microseconds, against a
   * worker hop per turn (the pool's thread woken, then this loop woken with the result; #25).
   */
  private Future<Similarity> similar(UUID tenantId, RoutingData d, String text) {
    if (nothingToEmbed(d) && text.length() <= LEXICAL_ON_LOOP_CHARS && !MatchText.hasCjk(text)) {
      try {
        return Future.succeededFuture(similarity(tenantId, d, text));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    return embeddings.executeBlocking(() -> similarity(tenantId, d, text), false);
  }

  /** No FAQ entry and no ready knowledge base: the question is matched by its text alone, never embedded. */
  private static boolean nothingToEmbed(RoutingData d) {
    return d.faqs().isEmpty() && !d.knowledgeReady();
  }

  /** Blocking (may embed the question): FAQ candidates and the small-talk score. */
  private Similarity similarity(UUID tenantId, RoutingData d, String text) {
    String normalized = MatchText.of(text);
    if (normalized.isEmpty()) { // similar to nothing, not even to a forced FAQ
      return Similarity.NONE;
    }
    if (nothingToEmbed(d)) {
      // nothing to match: the model answers whatever the scores say (a person when one is asked for),
      // so the question is not embedded; small talk is known by its text alone (docs/performance.md)
      return new Similarity(List.of(), null, smallTalk.lexical(text, normalized));
    }
    float[] query = questionVector(tenantId, d, normalized);
    RoutingData.Faq best = null;
    double bestScore = -1;
    List<FaqCandidate> candidates = new ArrayList<>();
    for (RoutingData.Faq faq : d.faqs()) {
      // the same question in another case, width, script or punctuation is the entry itself
      double s = faq.matchText().equals(normalized) ? 1 : Math.min(1, Vectors.cosine(query, faq.embedding())
          + SHARED_TERMS_WEIGHT * SharedTerms.share(normalized, faq.matchText()));
      candidates.add(new FaqCandidate(faq.id(), faq.question(), s));
      if (s > bestScore) {
        best = faq;
        bestScore = s;
      }
    }
    candidates.sort(Comparator.comparingDouble(FaqCandidate::score).reversed());
    return new Similarity(List.copyOf(candidates.subList(0, Math.min(FAQ_CANDIDATES, candidates.size()))), best,
        smallTalk.score(text, query));
  }

  /**
   * Blocking: the vector of the question in {@link MatchText} form. An FAQ entry's question or a
   * small-talk example of the same text already has it (embedded the same way, by the same model);
   * else the tenant's recent questions may, else the model embeds it.
   */
  private float[] questionVector(UUID tenantId, RoutingData d, String normalized) {
    for (RoutingData.Faq faq : d.faqs()) {
      if (faq.matchText().equals(normalized)) {
        return faq.embedding();
      }
    }
    float[] example = smallTalk.vectorOf(normalized);
    return example != null ? example : RecentVectors.SHARED.embed(tenantId, faqModel, normalized);
  }

  /**
   * Builds the decision records of one question for one tenant; {@code retrievalMs}: how long retrieval
   * took for it (0: none ran).
   */
  private record Decider(RoutingData d, String text, double retrievalMs, QueryTranslation translation) {

    Decider(RoutingData d, String text) {
      this(d, text, 0, null);
    }

    /**
     * This decider with the time from {@code asked} (System.nanoTime) to now as the retrieval's, its
     * translation included, and what the translation did.
     */
    Decider retrievedIn(long asked, QueryTranslation translation) {
      return new Decider(d, text, (System.nanoTime() - asked) / 1e6, translation);
    }

    RouteScores scores(Similarity sim, RetrieveReply reply, String reason) {
      List<RetrievedChunk> hits = reply == null || reply.hits() == null ? List.of() : reply.hits();
      return new RouteScores(sim.faq(), sim.smallTalk(), reply == null ? -1 : topVector(hits), sim.candidates(),
          hits, d.thresholds(), reason, retrievalMs, translation);
    }

    RouteDecision faq(Similarity sim, boolean forced) {
      return new RouteDecision(RouteDecision.FAQ, sim.faq(), sim.best().id(), sim.best().answer(), null, 0,
          List.of(), null, scores(sim, null, forced ? "a forcing rule chose the FAQ" : "FAQ at its threshold"));
    }

    /** A person, not the bot: score 1, so the widget escalates at once; the reply says so. */
    RouteDecision person(Similarity sim, String reason) {
      return new RouteDecision(RouteDecision.HANDOFF, 1, null, null, null, 0, List.of(), PersonRequest.reply(text),
          scores(sim, null, reason));
    }

    RouteDecision chat(double score, Similarity sim, String reason) {
      return chat(score, sim, null, reason);
    }

    RouteDecision chat(double score, Similarity sim, RetrieveReply reply, String reason) {
      return new RouteDecision(RouteDecision.CHAT, score, null, null, null, 0, List.of(), null,
          scores(sim, reply, reason));
    }

    /**
     * Knowledge when retrieval is confident (or forced): a passage at the knowledge threshold, or one at
     * the citation threshold that the lexical search agrees on; the sources are the passages at the
     * citation threshold. Else small talk near its threshold goes to the model, and the rest to the
     * handoff reply (or the model, as the tenant chose).
     */
    RouteDecision knowledge(Similarity sim, RetrieveReply reply, boolean forced) {
      if (reply == null) {
        return chat(0, sim, null, "retrieval unavailable");
      }
      List<RetrievedChunk> hits = reply.hits() == null ? List.of() : reply.hits();
      RouteThresholds t = d.thresholds();
      double top = topVector(hits);
      List<RetrievedChunk> sources = Confidence.sources(hits, t.citation());
      boolean confident = Confidence.confident(sources, t.knowledge());
      if (!sources.isEmpty() && (forced || confident)) {
        return new RouteDecision(RouteDecision.KNOWLEDGE, forced ? 1 : top, null, null, reply.knowledgeBaseId(),
            reply.knowledgeBaseVersion(), sources, null, scores(sim, reply,
            forced ? "a forcing rule chose the knowledge base" : "retrieval confident"));
      }
      if (sim.smallTalk() >= t.smallTalk()) {
        return chat(sim.smallTalk(), sim, reply, "small talk");
      }
      if (!d.handoff() || forced) {
        return chat(top, sim, reply, "retrieval not confident; the tenant lets the model answer");
      }
      return new RouteDecision(RouteDecision.HANDOFF, top, null, null, null, 0, List.of(),
          HandoffReply.of(d.handoffReply(), text), scores(sim, reply, "nothing answers confidently"));
    }

    private static double topVector(List<RetrievedChunk> hits) {
      return hits.stream().mapToDouble(RetrievedChunk::vectorScore).max().orElse(0);
    }
  }
}
