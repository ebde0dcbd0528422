package ai.deepchat.bus;

import ai.deepchat.chat.intent.IntentRouterVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.cache.TenantCache;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.cluster.BusPairContract;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrieveRequest;
import ai.deepchat.policy.PolicyServices;
import ai.deepchat.rag.KnowledgeBase;
import ai.deepchat.rag.Rag;
import ai.deepchat.rag.RagConfig;
import ai.deepchat.rag.embed.EmbeddingModels;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.failure;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static ai.deepchat.policy.PolicyTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pipeline's bus contracts, written once and run by {@link LocalBusContractTest} (one Vert.x
 * instance asks and serves) and {@link ClusteredBusContractTest} (two Hazelcast members on loopback,
 * every message and failure code crossing the wire): intent routing ({@link Addresses#CHAT_ROUTE}),
 * knowledge-base retrieval ({@link Addresses#RAG_RETRIEVE}) and the policy-change announcement
 * ({@link Addresses#POLICY_CHANGED}) that every per-tenant cache follows. The same answers and the same
 * failure codes either way.
 */
abstract class BusContract extends BusPairContract {

  private Database db;
  private Rag rag;
  private UUID tenant;
  private UUID otherTenant;

  @BeforeAll
  void start() throws Exception {
    db = TestDatabase.fresh(nodes.serving()).database();
    Platform platform = new Platform(ConfigLoader.load(Map.of("DATA_DIR",
        Files.createTempDirectory("bus-contract").toString()), new String[0]), db, "test");
    rag = Rag.create(nodes.serving(), db, RagConfig.defaults(platform.config().dataDir()));
    tenant = createTenant(db, "bus-contract");
    otherTenant = createTenant(db, "bus-contract-other");
    exec(db, tenant, "INSERT INTO intent_rules (tenant_id, intent, kind, pattern, priority)"
        + " VALUES ($1, 'chat', 'keyword', 'talk to a human', 5)", tenant);
    await(nodes.serving().deployVerticle(new IntentRouterVerticle(platform, EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH))));
    await(nodes.serving().deployVerticle(rag.retrieverVerticle()));
  }

  @AfterAll
  void stop() throws Exception {
    await(rag.close());
  }

  /** The reply to {@code body}, asked again while the serving node's consumer is not known here yet. */
  private <T> T request(String address, Object body) throws Exception {
    AtomicReference<T> reply = new AtomicReference<>();
    until("the serving node's consumer of " + address + " is known", Duration.ofSeconds(30), () -> {
      Future<T> asked = nodes.asking().eventBus().<T>request(address, body).map(m -> m.body());
      Throwable err = asked.transform(ar -> Future.succeededFuture(ar.cause())).toCompletionStage()
          .toCompletableFuture().get();
      if (err instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
        return false;
      }
      if (err != null) {
        throw new AssertionError("no failure expected from " + address, err);
      }
      reply.set(asked.result());
      return true;
    });
    return reply.get();
  }

  @Test
  void aRouteRequestIsAnsweredWithTheTenantsDecision() throws Exception {
    RouteDecision forced = request(Addresses.CHAT_ROUTE, new RouteRequest(tenant.toString(), "Can I talk to a human?"));
    assertThat(forced.intent()).isEqualTo(RouteDecision.CHAT);
    assertThat(forced.score()).isEqualTo(1.0);
    // without the rule the same words ask for a person: the tenant's rule decided above, not the wording
    RouteDecision person = request(Addresses.CHAT_ROUTE, new RouteRequest(otherTenant.toString(), "Can I talk to a human?"));
    assertThat(person.intent()).isEqualTo(RouteDecision.HANDOFF);
    RouteDecision plain = request(Addresses.CHAT_ROUTE, new RouteRequest(otherTenant.toString(), "Can I talk about pricing?"));
    assertThat(plain.intent()).isEqualTo(RouteDecision.CHAT);
    // no rule and no FAQ: the model answers, unforced (its score is the router's, never a forcing rule's 1)
    assertThat(plain.score()).as("no rule, no FAQ: the model, unforced").isLessThan(1.0);
  }

  @Test
  void aRouteRequestWithoutATenantIsRefusedAsInvalid() throws Exception {
    request(Addresses.CHAT_ROUTE, new RouteRequest(tenant.toString(), "warm-up"));
    assertThat(BusFailure.of(failure(nodes.asking().eventBus().request(Addresses.CHAT_ROUTE,
        new RouteRequest("not-a-uuid", "hi")))))
        .isEqualTo(BusFailure.INVALID_REQUEST);
  }

  @Test
  void aRetrieveRequestSearchesOnlyTheTenantsOwnKnowledgeBase() throws Exception {
    KnowledgeBase base = await(rag.knowledgeBases().createKnowledgeBase(tenant, "contract", "", null));
    RetrieveReply reply = request(Addresses.RAG_RETRIEVE,
        new RetrieveRequest(tenant.toString(), base.id().toString(), "opening hours", 3));
    assertThat(reply.knowledgeBaseId()).isEqualTo(base.id().toString());
    assertThat(reply.hits()).as("nothing ingested yet").isEmpty();
    // another tenant's knowledge base, and an id that is no UUID, are both simply not found
    assertThat(BusFailure.of(failure(nodes.asking().eventBus().request(Addresses.RAG_RETRIEVE,
        new RetrieveRequest(otherTenant.toString(), base.id().toString(), "opening hours", 3)))))
        .isEqualTo(BusFailure.NOT_FOUND);
    assertThat(BusFailure.of(failure(nodes.asking().eventBus().request(Addresses.RAG_RETRIEVE,
        new RetrieveRequest(tenant.toString(), "no-uuid", "opening hours", 3)))))
        .isEqualTo(BusFailure.NOT_FOUND);
  }

  @Test
  void aPolicyChangeAnnouncedOnAnyNodeDropsTheServingNodesCachedEntry() throws Exception {
    AtomicInteger loads = new AtomicInteger();
    TenantCache<Integer> cache = TenantCache.create(nodes.serving(), Duration.ofMinutes(5),
        t -> Future.succeededFuture(loads.incrementAndGet()));
    await(cache.ready());
    assertThat(await(cache.get(tenant))).isEqualTo(1);
    assertThat(await(cache.get(tenant))).isEqualTo(1);
    // announced again while the subscription may still be on its way to the asking node
    until("the announcement reached the serving node", Duration.ofSeconds(30), () -> {
      PolicyServices.publishChanged(nodes.asking(), tenant);
      return await(cache.get(tenant)) > 1;
    });
    await(cache.close());
  }
}
