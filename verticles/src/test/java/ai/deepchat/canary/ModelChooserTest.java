package ai.deepchat.canary;

import ai.deepchat.canary.guard.LiveWorkers;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.Arm;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.canary.rollout.ModelChooser;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** Traffic split, stickiness, A/B proportions and live-worker fallback against real PostgreSQL. */
@ExtendWith(VertxExtension.class)
class ModelChooserTest {

  static Database db;
  static Platform platform;
  static CanaryServices services;
  static Vertx vertx;

  @BeforeAll
  static void setUp(Vertx v) throws Exception {
    vertx = v;
    Codecs.registerAll(v);
    db = TestDatabase.fresh(v).database();
    platform = CanaryTestSupport.platform(db, Map.of("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1"));
    services = CanaryTestSupport.services(v, platform);
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(services.close());
  }

  private static List<UUID> conversations(int n) {
    List<UUID> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(UUID.randomUUID());
    }
    return out;
  }

  @Test
  void aTenPercentCanaryLandsWithinOnePointAndEveryConversationSticks() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "split");
    ModelVersion stable = CanaryTestSupport.stable(services, tenant,
        CanaryTestSupport.openai(services, tenant, "v1", "http://127.0.0.1:1"));
    ModelVersion candidate = CanaryTestSupport.openai(services, tenant, "v2", "http://127.0.0.1:2");
    Rollout rollout = await(services.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.CANARY, candidate.id(), 1000, List.of(), null), ADMIN));

    List<UUID> convs = conversations(10_000);
    Map<UUID, UUID> first = new HashMap<>();
    int onCandidate = 0;
    for (UUID c : convs) {
      Assignment a = await(services.chooser().choose(tenant, c)).orElseThrow();
      first.put(c, a.version().id());
      if (a.version().id().equals(candidate.id())) {
        onCandidate++;
        assertThat(a.candidate()).isTrue();
        assertThat(a.fallback().id()).isEqualTo(stable.id());
      }
      assertThat(a.rollout().id()).isEqualTo(rollout.id());
    }
    assertThat(onCandidate).isBetween(900, 1100);

    // the same answer again, and from a fresh chooser (another node, or after a restart)
    ModelChooser fresh = new ModelChooser(db, new LiveWorkers(vertx, Duration.ofSeconds(5)));
    for (UUID c : convs) {
      assertThat(await(services.chooser().choose(tenant, c)).orElseThrow().version().id()).isEqualTo(first.get(c));
      assertThat(await(fresh.choose(tenant, c)).orElseThrow().version().id()).isEqualTo(first.get(c));
    }

    // raising the share never moves a conversation that already has its version (pinned)
    await(services.rollouts().setPercentage(Scope.tenant(tenant), rollout.id(), 5000, ADMIN));
    await(services.chooser().routing(Scope.tenant(tenant)));
    services.chooser().refresh(Scope.tenant(tenant));
    int moved = 0;
    int nowCandidate = 0;
    for (UUID c : convs) {
      UUID pinned = first.get(c);
      assertThat(await(services.chooser().choose(tenant, c, pinned)).orElseThrow().version().id()).isEqualTo(pinned);
      UUID unpinned = await(services.chooser().choose(tenant, c)).orElseThrow().version().id();
      moved += unpinned.equals(pinned) ? 0 : 1;
      nowCandidate += unpinned.equals(candidate.id()) ? 1 : 0;
    }
    assertThat(nowCandidate).isBetween(4800, 5200);
    // without the pin, ramping 10% → 50% moves only stable conversations to the candidate, never back
    assertThat(moved).isEqualTo(nowCandidate - onCandidate);
  }

  @Test
  void abArmsGetTheirFixedShares() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "ab");
    ModelVersion a = CanaryTestSupport.stable(services, tenant,
        CanaryTestSupport.openai(services, tenant, "arm-a", "http://127.0.0.1:1"));
    ModelVersion b = CanaryTestSupport.openai(services, tenant, "arm-b", "http://127.0.0.1:2");
    ModelVersion c = CanaryTestSupport.openai(services, tenant, "arm-c", "http://127.0.0.1:3");
    await(services.rollouts().start(Scope.tenant(tenant), new StartRequest(RolloutMode.AB, null, 0,
        List.of(new Arm(a.id(), 5000), new Arm(b.id(), 3000), new Arm(c.id(), 2000)), null), ADMIN));
    Map<UUID, Integer> counts = new HashMap<>();
    for (UUID conv : conversations(10_000)) {
      counts.merge(await(services.chooser().choose(tenant, conv)).orElseThrow().version().id(), 1, Integer::sum);
    }
    assertThat(counts.get(a.id())).isBetween(4850, 5150);
    assertThat(counts.get(b.id())).isBetween(2850, 3150);
    assertThat(counts.get(c.id())).isBetween(1850, 2150);
  }

  @Test
  void aCandidateWithoutALiveWorkerFallsBackToStable() throws Exception {
    AtomicLong now = new AtomicLong(0);
    LiveWorkers live = new LiveWorkers(vertx, Duration.ofSeconds(5), now::get);
    await(live.start());
    ModelChooser chooser = new ModelChooser(db, live);
    UUID tenant = CanaryTestSupport.createTenant(db, "liveness");
    ModelVersion stable = CanaryTestSupport.stable(services, tenant,
        CanaryTestSupport.openai(services, tenant, "remote-stable", "http://127.0.0.1:1"));
    ModelVersion candidate = CanaryTestSupport.local(services, tenant, "local-candidate", "deepseek-r1-distill-7b");
    await(services.rollouts().start(Scope.tenant(tenant),
        new StartRequest(RolloutMode.CANARY, candidate.id(), 10_000, List.of(), null), ADMIN));
    UUID conv = UUID.randomUUID();

    Assignment none = await(chooser.choose(tenant, conv)).orElseThrow();
    assertThat(none.version().id()).isEqualTo(stable.id());
    assertThat(none.rerouted()).isTrue();

    live.accept(new WorkerAnnouncement("w1", "node-1", List.of("deepseek-r1-distill-7b"), 0, false));
    Assignment served = await(chooser.choose(tenant, conv)).orElseThrow();
    assertThat(served.version().id()).isEqualTo(candidate.id());
    assertThat(served.rerouted()).isFalse();

    // the worker stops announcing: after the ttl its share goes back to stable
    now.addAndGet(Duration.ofSeconds(6).toNanos());
    assertThat(await(chooser.choose(tenant, conv)).orElseThrow().version().id()).isEqualTo(stable.id());

    live.accept(new WorkerAnnouncement("w1", "node-1", List.of("deepseek-r1-distill-7b"), 0, false));
    assertThat(await(chooser.choose(tenant, conv)).orElseThrow().version().id()).isEqualTo(candidate.id());
    live.accept(new WorkerAnnouncement("w1", "node-1", List.of("deepseek-r1-distill-7b"), 0, true));
    assertThat(await(chooser.choose(tenant, conv)).orElseThrow().version().id()).isEqualTo(stable.id());

    // announcements over the bus reach the registry too
    vertx.eventBus().publish(ai.deepchat.platform.bus.Addresses.ENGINE_ANNOUNCE,
        new WorkerAnnouncement("w2", "node-2", List.of("deepseek-r1-distill-7b"), 1, false));
    until("the announced model is served", Duration.ofSeconds(10), () -> live.serves("deepseek-r1-distill-7b"));
    assertThat(live.serves("deepseek-r1-distill-7b")).isTrue();
    await(live.close());
  }

  @Test
  void aTenantWithNothingOfItsOwnUsesThePlatformRolloutAndNoneAtAllIsEmpty() throws Exception {
    UUID tenant = CanaryTestSupport.createTenant(db, "bare");
    assertThat(await(services.chooser().choose(tenant, UUID.randomUUID()))).isEqualTo(Optional.empty());
    var spec = new ai.deepchat.canary.registry.ModelRegistry.VersionSpec("platform-v1",
        ai.deepchat.canary.registry.Backend.OPENAI, "https://api.deepseek.com", new io.vertx.core.json.JsonObject(), "");
    ModelVersion pv = await(services.registry().create(Scope.PLATFORM, spec, ADMIN));
    await(services.registry().activate(Scope.PLATFORM, pv.id(), ADMIN, "platform default"));
    // the change event reloads the platform scope; poll briefly for it
    until("the platform version is chosen", Duration.ofSeconds(10),
        () -> await(services.chooser().choose(tenant, UUID.randomUUID())).isPresent());
    Optional<Assignment> a = await(services.chooser().choose(tenant, UUID.randomUUID()));
    assertThat(a).isPresent();
    assertThat(a.get().version().id()).isEqualTo(pv.id());
    assertThat(a.get().version().tenantId()).isNull();
  }
}
