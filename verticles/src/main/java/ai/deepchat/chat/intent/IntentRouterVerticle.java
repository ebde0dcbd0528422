package ai.deepchat.chat.intent;

import ai.deepchat.chat.cache.QuestionNormalizer;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.cache.TenantCache;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.rag.embed.Embedder;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.rag.embed.Vectors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.UUID;

/**
 * Decides per tenant which path answers a question: a forcing rule (keyword or regex, by priority),
 * else an FAQ entry whose question is similar enough (cosine of bge embeddings ≥ the tenant's
 * faq_threshold), else the knowledge base when the tenant has a default one with ready documents,
 * else the model. Routing data is cached per tenant for a few seconds, so FAQ edits apply quickly.
 */
public final class IntentRouterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(IntentRouterVerticle.class);
  static final Duration DATA_TTL = Duration.ofSeconds(10);
  /** FAQ questions and the asked question are compared as texts of one kind (no query instruction). */
  static final Embedder FAQ_MODEL = EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH);

  private final Platform platform;
  private WorkerExecutor embeddings;
  private TenantCache<RoutingData> data;

  public IntentRouterVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    embeddings = WorkerPools.of(vertx).open(WorkerPools.Kind.EMBEDDINGS);
    data = TenantCache.create(vertx, DATA_TTL, tenantId -> RoutingData.load(embeddings, platform.database(), tenantId));
    return Future.all(vertx.eventBus().<RouteRequest>consumer(Addresses.CHAT_ROUTE, this::onRoute).completion(),
        data.ready());
  }

  private void onRoute(Message<RouteRequest> msg) {
    RouteRequest req = msg.body();
    UUID tenantId;
    try {
      tenantId = UUID.fromString(req.tenantId());
    } catch (IllegalArgumentException | NullPointerException e) {
      BusFailure.INVALID_REQUEST.fail(msg, "bad tenant id");
      return;
    }
    data.get(tenantId).compose(d -> decide(d, req.text()))
        .onSuccess(msg::reply)
        .onFailure(err -> {
          LOG.warn("routing failed for tenant {}; answering with the model", tenantId, err);
          msg.reply(RouteDecision.chat(0));
        });
  }

  private Future<RouteDecision> decide(RoutingData d, String text) {
    String forced = null;
    String folded = QuestionNormalizer.normalize(text);
    for (RoutingData.Rule rule : d.rules()) {
      boolean hit = rule.kind().equals("keyword")
          ? folded.contains(QuestionNormalizer.normalize(rule.pattern()))
          : BoundedRegex.find(rule.regex(), text);
      if (hit) {
        forced = rule.intent();
        break;
      }
    }
    if (RouteDecision.CHAT.equals(forced)) {
      return Future.succeededFuture(RouteDecision.chat(1));
    }
    if (RouteDecision.KNOWLEDGE.equals(forced)) {
      return Future.succeededFuture(d.knowledgeReady() ? knowledge(d, 1) : RouteDecision.chat(0));
    }
    boolean forcedFaq = RouteDecision.FAQ.equals(forced);
    if (d.faqs().isEmpty()) {
      return Future.succeededFuture(d.knowledgeReady() ? knowledge(d, 0) : RouteDecision.chat(0));
    }
    return embeddings.executeBlocking(() -> best(d, text), false)
        .recover(err -> {
          LOG.warn("embedding failed; FAQ matching skipped", err);
          return Future.succeededFuture(null);
        })
        .map(match -> {
          double score = match == null ? 0 : match.score();
          if (match != null && (forcedFaq || score >= d.faqThreshold())) {
            return new RouteDecision(RouteDecision.FAQ, score, match.faq().id(), match.faq().answer(), null, 0);
          }
          return d.knowledgeReady() ? knowledge(d, score) : RouteDecision.chat(score);
        });
  }

  private static RouteDecision knowledge(RoutingData d, double score) {
    return new RouteDecision(RouteDecision.KNOWLEDGE, score, null, null, d.knowledgeBaseId(), d.knowledgeBaseVersion());
  }

  private record Match(RoutingData.Faq faq, double score) {
  }

  private static Match best(RoutingData d, String text) {
    if (text.isBlank()) { // similar to nothing, not even to a forced FAQ
      return null;
    }
    float[] query = FAQ_MODEL.embed(text);
    Match best = null;
    for (RoutingData.Faq faq : d.faqs()) {
      double s = Vectors.cosine(query, faq.embedding());
      if (best == null || s > best.score()) {
        best = new Match(faq, s);
      }
    }
    return best;
  }
}
