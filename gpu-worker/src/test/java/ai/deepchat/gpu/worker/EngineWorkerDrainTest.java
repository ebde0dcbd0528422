package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.TenantLabels;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The worker's gauges and its drain, on the real engine over the real event bus. One slot per
 * worker, so a second generation queues (no token yet) while the first one streams.
 */
class EngineWorkerDrainTest {

  @TempDir
  static Path dataDir;
  static Path modelDir;
  static Vertx vertx;
  static SimpleMeterRegistry registry = new SimpleMeterRegistry();
  static final List<ChatMessage> CHAT = List.of(new ChatMessage("user", "Tell me a long story."));
  static final EngineOptions ONE_SLOT = new EngineOptions("cpu", 1, false, 1, 0);

  @BeforeAll
  static void start() {
    modelDir = TinyTestModel.ensure(dataDir);
    PlatformMetrics.install(new PlatformMetrics(registry, TenantLabels.hashed()));
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
  }

  @AfterAll
  static void close() throws Exception {
    PlatformMetrics.install(null);
    await(vertx.close());
  }

  /** One generation's events as they arrive; {@code ended} completes on DONE or ERROR. */
  record Gen(String requestId, List<GenerationEvent> events, CompletableFuture<GenerationEvent> ended,
             CompletableFuture<Void> firstDelta) {
    long deltas() {
      return events.stream().filter(e -> e.kind() == GenerationEvent.Kind.DELTA).count();
    }
  }

  /** Starts a long generation (temperature 1, so no early end on a stop token) on the only worker. */
  static Gen start(int maxTokens) throws Exception {
    String requestId = UUID.randomUUID().toString();
    String address = Addresses.generationEvents(requestId);
    Gen gen = new Gen(requestId, new CopyOnWriteArrayList<>(), new CompletableFuture<>(), new CompletableFuture<>());
    await(vertx.eventBus().<GenerationEvent>consumer(address, msg -> {
      gen.events().add(msg.body());
      if (msg.body().kind() == GenerationEvent.Kind.DELTA) {
        gen.firstDelta().complete(null);
      } else {
        gen.ended().complete(msg.body());
      }
    }).completion());
    await(vertx.eventBus().request(Addresses.engineGenerate(TinyTestModel.MODEL_KEY),
        new GenerateRequest(requestId, "tenant", TinyTestModel.MODEL_KEY, CHAT,
            new SamplingParams(1.0, 1, 0, 1, 7, maxTokens, List.of()), address)));
    return gen;
  }

  static EngineWorkerVerticle deploy(Duration drainDeadline) throws Exception {
    EngineWorkerVerticle worker = new EngineWorkerVerticle(TinyTestModel.MODEL_KEY, modelDir, ONE_SLOT, "test-node",
        drainDeadline);
    await(vertx.deployVerticle(worker));
    return worker;
  }

  static double gauge(String name) {
    Gauge g = registry.find(name).tag("model", TinyTestModel.MODEL_KEY).gauge();
    return g == null ? Double.NaN : g.value();
  }

  @Test
  void gaugesShowTheQueueAndKvUseWhileGeneratingAndGoAwayWithTheWorker() throws Exception {
    String id = await(vertx.deployVerticle(new EngineWorkerVerticle(TinyTestModel.MODEL_KEY, modelDir, ONE_SLOT,
        "test-node")));
    assertThat(gauge("deepchat.worker.queue.depth")).isZero();
    assertThat(gauge("deepchat.worker.kv.cache.usage.ratio")).isZero();

    Gen running = start(4000);
    running.firstDelta().get(30, TimeUnit.SECONDS);
    Gen queued = start(8);
    // the snapshot follows the scheduler within a step
    until("one generation waits for the only slot", Duration.ofSeconds(30), () -> gauge("deepchat.worker.queue.depth") == 1);
    // prompt + 4000 reserved of the 4096-token context of the only slot
    assertThat(gauge("deepchat.worker.kv.cache.usage.ratio")).isGreaterThan(0.9).isLessThanOrEqualTo(1);

    vertx.eventBus().publish(Addresses.ENGINE_CANCEL, new CancelGeneration(running.requestId()));
    assertThat(running.ended().get(30, TimeUnit.SECONDS).finishReason()).isEqualTo("cancelled");
    GenerationEvent done = queued.ended().get(30, TimeUnit.SECONDS);
    assertThat(done.kind()).isEqualTo(GenerationEvent.Kind.DONE);
    until("idle again", Duration.ofSeconds(30), () -> gauge("deepchat.worker.queue.depth") == 0
        && gauge("deepchat.worker.kv.cache.usage.ratio") == 0);
    // every token the engine made counts: the cancelled one's and the 8 (or fewer) of the queued one
    double generated = registry.find("deepchat.worker.generated.tokens").tag("model", TinyTestModel.MODEL_KEY)
        .functionCounter().count();
    assertThat(generated).isGreaterThanOrEqualTo(running.deltas() + done.usage().completionTokens());

    await(vertx.undeploy(id));
    assertThat(registry.find("deepchat.worker.queue.depth").gauges()).isEmpty();
    assertThat(registry.find("deepchat.worker.kv.cache.usage.ratio").gauges()).isEmpty();
    assertThat(registry.find("deepchat.worker.generated.tokens").functionCounters()).isEmpty();
  }

  @Test
  void drainLetsTheStreamingGenerationFinishHandsBackTheUnstartedAndTakesNoMore() throws Exception {
    EngineWorkerVerticle worker = deploy(Duration.ofSeconds(120));
    try {
      Gen streaming = start(1500);
      streaming.firstDelta().get(30, TimeUnit.SECONDS);
      Gen waiting = start(8);
      CompletableFuture<WorkerAnnouncement> leaving = new CompletableFuture<>();
      var announcements = vertx.eventBus().<WorkerAnnouncement>consumer(Addresses.ENGINE_ANNOUNCE, m -> {
        if (m.body().leaving()) {
          leaving.complete(m.body());
        }
      });
      await(announcements.completion());

      Future<Boolean> drained = worker.drain();

      GenerationEvent handedBack = waiting.ended().get(30, TimeUnit.SECONDS);
      assertThat(handedBack.kind()).isEqualTo(GenerationEvent.Kind.ERROR);
      assertThat(handedBack.finishReason()).isEqualTo("handed_back");
      assertThat(waiting.deltas()).isZero();
      assertThat(leaving.get(10, TimeUnit.SECONDS).nodeId()).isEqualTo("test-node");

      GenerationEvent end = streaming.ended().get(60, TimeUnit.SECONDS);
      assertThat(end.kind()).as("finished, not cut").isEqualTo(GenerationEvent.Kind.DONE);
      assertThat(end.finishReason()).isEqualTo("length");
      assertThat(end.usage().completionTokens()).isEqualTo(1500);
      assertThat(await(drained)).as("nothing had to be cut").isTrue();
      await(announcements.unregister());

      assertThatThrownBy(() -> start(4)).as("the draining worker takes no new generation")
          .isInstanceOfSatisfying(ExecutionException.class,
              e -> assertThat(((ReplyException) e.getCause()).failureType()).isEqualTo(ReplyFailure.NO_HANDLERS));
    } finally {
      await(vertx.undeploy(worker.deploymentID()));
    }
  }

  @Test
  void drainCutsWhatIsStillRunningAtTheDeadlineWithACleanError() throws Exception {
    EngineWorkerVerticle worker = deploy(Duration.ZERO);
    try {
      Gen streaming = start(4000);
      streaming.firstDelta().get(30, TimeUnit.SECONDS);

      assertThat(await(worker.drain())).as("a generation was cut").isFalse();

      GenerationEvent end = streaming.ended().get(30, TimeUnit.SECONDS);
      assertThat(end.kind()).isEqualTo(GenerationEvent.Kind.ERROR);
      assertThat(end.finishReason()).isEqualTo("error");
      assertThat(end.error()).contains("shut down");
      assertThat(streaming.deltas()).isPositive();
      assertThat(worker.activeSequences()).isZero();
    } finally {
      await(vertx.undeploy(worker.deploymentID()));
    }
  }
}
