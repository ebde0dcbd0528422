package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.Engine;
import ai.deepchat.gpu.engine.EngineException;
import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.engine.FinishReason;
import ai.deepchat.gpu.engine.Sampling;
import ai.deepchat.gpu.engine.TokenListener;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.bus.StreamInbox;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.engine.EngineMessages.CancelGeneration;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.cluster.ClusterMembership;
import ai.deepchat.platform.concurrent.BusyDefaultWorkers;
import ai.deepchat.platform.engine.EngineMessages.GenerateAccepted;
import ai.deepchat.platform.engine.EngineMessages.GenerateRequest;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The worker verticle on the real engine, real tokenizer and template, over the real event bus. */
@ExtendWith(VertxExtension.class)
class EngineWorkerVerticleTest {

  @TempDir
  static Path dataDir;
  static Path modelDir;
  static Vertx vertx;
  static EngineWorkerVerticle worker;
  static final List<ChatMessage> CHAT = List.of(new ChatMessage("system", "You are terse."),
      new ChatMessage("user", "Say something in 中文, please."));

  @BeforeAll
  static void deploy() throws Exception {
    modelDir = TinyTestModel.ensure(dataDir);
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    worker = new EngineWorkerVerticle("tiny-test", modelDir, new EngineOptions("cpu", 1, false, 4, 0), "test-node");
    await(vertx.deployVerticle(worker));
  }

  @AfterAll
  static void close() throws Exception {
    await(vertx.close());
  }

  record Run(List<GenerationEvent> events) {
    String content() {
      StringBuilder sb = new StringBuilder();
      events.stream().filter(e -> e.kind() == GenerationEvent.Kind.DELTA).forEach(e -> {
        if (e.content() != null) sb.append(e.content());
        if (e.reasoning() != null) sb.append(e.reasoning());
      });
      return sb.toString();
    }

    GenerationEvent last() {
      return events.get(events.size() - 1);
    }
  }

  /** Sends a request and collects its events until DONE or ERROR; cancels after the first delta if asked. */
  static Run generate(SamplingParams sampling, boolean cancelAfterFirstDelta) throws Exception {
    return generate("tiny-test", CHAT, sampling, cancelAfterFirstDelta);
  }

  static Run generate(String modelKey, List<ChatMessage> chat, SamplingParams sampling, boolean cancelAfterFirstDelta)
      throws Exception {
    String requestId = UUID.randomUUID().toString();
    String address = Addresses.generationEvents(requestId);
    List<GenerationEvent> events = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    var consumer = vertx.eventBus().<GenerationEvent>consumer(address, msg -> {
      GenerationEvent e = msg.body();
      events.add(e);
      if (cancelAfterFirstDelta && e.kind() == GenerationEvent.Kind.DELTA && events.size() == 1) {
        vertx.eventBus().publish(Addresses.ENGINE_CANCEL, new CancelGeneration(requestId));
      }
      if (e.kind() != GenerationEvent.Kind.DELTA) {
        done.complete(null);
      }
    });
    await(consumer.completion());
    Object ack = await(vertx.eventBus().request(Addresses.engineGenerate(modelKey),
        new GenerateRequest(requestId, "tenant", modelKey, chat, sampling, address))).body();
    assertThat(ack).isInstanceOfSatisfying(GenerateAccepted.class,
        a -> assertThat(a.nodeId()).isEqualTo(ClusterMembership.LOCAL));
    done.get(60, TimeUnit.SECONDS);
    await(consumer.unregister());
    return new Run(new ArrayList<>(events));
  }

  /** The same generation straight on the engine: the token ids the worker must have turned into text. */
  static String directGreedyText(int maxTokens) throws Exception {
    try (ServedModel model = ServedModel.load("direct", modelDir, new EngineOptions("cpu", 1, false, 1, 0))) {
      List<Integer> ids = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      model.engine().start(model.prompt(CHAT).tokens(), Sampling.greedy(maxTokens, model.stopTokenIds()),
          new TokenListener() {
            @Override public void onToken(int tokenId) { ids.add(tokenId); }
            @Override public void onFinish(FinishReason r, int p, int c) { done.complete(null); }
            @Override public void onError(EngineException e) { done.completeExceptionally(e); }
          });
      done.get(60, TimeUnit.SECONDS);
      return model.tokenizer().decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
    }
  }

  @Test
  void concurrentGenerationsReachAPipelineInboxAsOneMessagePerStep() throws Exception {
    int n = 4; // the worker's batch: all of them run in the same engine steps
    Map<String, List<GenerationEvent>> events = new ConcurrentHashMap<>();
    AtomicInteger messages = new AtomicInteger();
    CompletableFuture<StreamInbox<GenerationEvent>> made = new CompletableFuture<>();
    io.vertx.core.Context pipeline = vertx.getOrCreateContext();
    pipeline.runOnContext(v -> {
      StreamInbox<GenerationEvent> inbox = StreamInbox.current(vertx, EngineMessages.GENERATION_STREAM);
      for (int i = 0; i < n; i++) {
        String id = "batched-" + i;
        inbox.register(id, e -> events.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(e));
      }
      made.complete(inbox);
    });
    StreamInbox<GenerationEvent> inbox = made.get(10, TimeUnit.SECONDS);
    await(inbox.ready());
    vertx.eventBus().addOutboundInterceptor(dc -> {
      if (dc.message().address().equals(inbox.address())) {
        messages.incrementAndGet();
      }
      dc.next();
    });
    List<Future<?>> accepted = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      accepted.add(vertx.eventBus().request(Addresses.engineGenerate("tiny-test"), new GenerateRequest(
          "batched-" + i, "tenant", "tiny-test", CHAT, SamplingParams.greedy(12), inbox.address())));
    }
    await(Future.all(accepted));
    until("every generation has ended", Duration.ofSeconds(60), () -> events.values().stream()
        .filter(l -> l.get(l.size() - 1).kind() != GenerationEvent.Kind.DELTA).count() >= n);
    String expected = directGreedyText(12);
    int total = 0;
    for (List<GenerationEvent> run : events.values()) {
      assertThat(new Run(run).content()).isEqualTo(expected);
      assertThat(new Run(run).last().kind()).isEqualTo(GenerationEvent.Kind.DONE);
      // numbered in order, so a pipeline on another node would see one the bus lost
      assertThat(run).extracting(GenerationEvent::seq)
          .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, run.size()).boxed().toList());
      total += run.size();
    }
    // one batch per engine step for the four generations, not one per event; an inbox in this JVM gets
    // it without the bus (#25)
    CompletableFuture<Long> batches = new CompletableFuture<>();
    pipeline.runOnContext(v -> batches.complete(inbox.deliveries()));
    assertThat(batches.get(10, TimeUnit.SECONDS)).isPositive().isLessThanOrEqualTo(total / 2);
    assertThat(messages.get()).as("bus messages to the inbox").isZero();
  }

  @Test
  void admissionsRunOnTheirOwnPoolWhileTheDefaultWorkerPoolIsFull() throws Exception {
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      Run run = generate(SamplingParams.greedy(4), false);
      assertThat(run.last().kind()).isEqualTo(GenerationEvent.Kind.DONE);
    }
  }

  @Test
  void streamsTheEnginesGreedyTokensAsText() throws Exception {
    Run run = generate(SamplingParams.greedy(12), false);
    assertThat(run.last().kind()).isEqualTo(GenerationEvent.Kind.DONE);
    assertThat(run.last().usage().promptTokens()).isGreaterThan(10);
    assertThat(run.last().usage().completionTokens()).isBetween(1, 12);
    String expected = directGreedyText(12);
    assertThat(expected).isNotEmpty();
    assertThat(run.content()).isEqualTo(expected);
  }

  @Test
  void everyEventCarriesTheWorkersClockFromAdmissionOn() throws Exception {
    long before = EngineStamp.nowMicros();
    Run run = generate(SamplingParams.greedy(6), false);
    long after = EngineStamp.nowMicros();
    assertThat(run.events()).allSatisfy(e -> {
      assertThat(e.stamp()).isNotNull();
      assertThat(e.stamp().admittedAtMicros()).isBetween(before, after);
      assertThat(e.stamp().emittedAtMicros()).isBetween(e.stamp().admittedAtMicros(), after);
    });
    // one admission per generation; events stamped in the order they were sent
    assertThat(run.events().stream().map(e -> e.stamp().admittedAtMicros()).distinct()).hasSize(1);
    assertThat(run.events().stream().map(e -> e.stamp().emittedAtMicros()).toList()).isSorted();
  }

  @Test
  void aStopStringCutsTheAnswerBeforeIt() throws Exception {
    String full = generate(SamplingParams.greedy(12), false).content();
    assertThat(full.length()).isGreaterThan(4);
    String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
    Run run = generate(new SamplingParams(0, 1, 0, 1, 0, 12, List.of(stop)), false);
    assertThat(run.last().finishReason()).isEqualTo("stop");
    assertThat(run.content()).isEqualTo(full.substring(0, full.indexOf(stop)));
  }

  @Test
  void aPublishedCancelStopsTheGenerationAndFreesItsSlot() throws Exception {
    Run run = generate(SamplingParams.greedy(3000), true);
    assertThat(run.last().kind()).isEqualTo(GenerationEvent.Kind.DONE);
    assertThat(run.last().finishReason()).isEqualTo("cancelled");
    assertThat(run.last().usage().completionTokens()).isLessThan(3000);
    assertThat(worker.activeSequences()).isZero();
  }

  @Test
  void badRequestsFailWithCode400() {
    assertThatThrownBy(() -> await(vertx.eventBus().request(Addresses.engineGenerate("tiny-test"),
        new GenerateRequest("r", "t", "tiny-test", List.of(), SamplingParams.greedy(4), "nowhere"))))
        .isInstanceOfSatisfying(java.util.concurrent.ExecutionException.class,
            e -> assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(400));
    // a prompt longer than the model's context
    String huge = "word ".repeat(5000);
    assertThatThrownBy(() -> await(vertx.eventBus().request(Addresses.engineGenerate("tiny-test"),
        new GenerateRequest("r2", "t", "tiny-test", List.of(new ChatMessage("user", huge)),
            SamplingParams.greedy(4), "nowhere"))))
        .isInstanceOfSatisfying(java.util.concurrent.ExecutionException.class,
            e -> assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(400));
  }

  @Test
  void announcesTheModelItServes() throws Exception {
    CompletableFuture<WorkerAnnouncement> seen = new CompletableFuture<>();
    var c = vertx.eventBus().<WorkerAnnouncement>consumer(Addresses.ENGINE_ANNOUNCE, m -> seen.complete(m.body()));
    WorkerAnnouncement a = seen.get(10, TimeUnit.SECONDS);
    await(c.unregister());
    assertThat(a.modelKeys()).containsExactly("tiny-test");
    assertThat(a.nodeId()).isEqualTo("test-node");
    assertThat(a.leaving()).isFalse();
    // the console's Models page lists where each key is served and how deep its queue is
    assertThat(a.device()).isEqualTo("cpu");
    assertThat(a.queued()).isZero();
  }

  private static List<String> nextAnnouncement() throws Exception {
    CompletableFuture<WorkerAnnouncement> seen = new CompletableFuture<>();
    var c = vertx.eventBus().<WorkerAnnouncement>consumer(Addresses.ENGINE_ANNOUNCE, m -> seen.complete(m.body()));
    try {
      return seen.get(10, TimeUnit.SECONDS).modelKeys();
    } finally {
      await(c.unregister());
    }
  }

  /**
   * The worker follows its model's adapters/ folder: an adapter copied in is served as "<base>+<name>"
   * within an announcement period and answers with its own tokens, a broken one is skipped until its
   * files change, and removed ones are no longer announced.
   */
  @Test
  void loraAdaptersAreServedAsTheyAppearAndDropWhenRemoved() throws Exception {
    Path adapters = modelDir.resolve(ServedAdapters.FOLDER);
    Path broken = Files.createDirectories(adapters.resolve("broken"));
    Files.writeString(broken.resolve("adapter_config.json"), "{\"r\": 4,");
    TinyTestModel.writeAdapter(adapters.resolve("ops"), 3L);
    String key = EngineMessages.adapterModelKey("tiny-test", "ops");
    until("the adapter is announced", Duration.ofSeconds(15), () -> nextAnnouncement().contains(key));
    assertThat(nextAnnouncement()).containsExactly("tiny-test", key);

    Run withAdapter = generate(key, CHAT, SamplingParams.greedy(8), false);
    Run base = generate(SamplingParams.greedy(8), false);
    assertThat(withAdapter.last().kind()).isEqualTo(GenerationEvent.Kind.DONE);
    assertThat(withAdapter.content()).isNotEqualTo(base.content());

    TinyTestModel.writeAdapter(broken, 4L);  // repaired: picked up now its files changed
    String repaired = EngineMessages.adapterModelKey("tiny-test", "broken");
    until("the repaired adapter is announced", Duration.ofSeconds(15), () -> nextAnnouncement().contains(repaired));
    for (Path dir : List.of(adapters.resolve("ops"), broken)) {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      Files.delete(dir);
    }
    until("the adapters are no longer announced", Duration.ofSeconds(15),
        () -> nextAnnouncement().equals(List.of("tiny-test")));
  }

  // Constrained decoding (#17): the random model's output is valid JSON under the schema, whatever
  // it samples, and ends by itself (finish "stop") within max_tokens.
  static final String PERSON = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
      + "\"age\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]},"
      + "\"maxItems\":3}},\"required\":[\"name\",\"age\",\"tags\"],\"additionalProperties\":false}";

  static SamplingParams constrained(EngineMessages.OutputConstraint c, long seed, int maxTokens) {
    return new SamplingParams(1.0, 1.0, 0, 1.0, seed, maxTokens, List.of(), c, -1, 1);
  }

  @Test
  void jsonSchemaOutputOfTheRandomModelValidates() throws Exception {
    var validator = com.networknt.schema.JsonSchemaFactory.getInstance(
        com.networknt.schema.SpecVersion.VersionFlag.V202012).getSchema(PERSON);
    var json = new com.fasterxml.jackson.databind.ObjectMapper()
        .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    for (int seed = 1; seed <= 3; seed++) {
      Run run = generate(constrained(EngineMessages.OutputConstraint.jsonSchema(PERSON), seed, 40), false);
      assertThat(run.last().finishReason()).isEqualTo("stop");
      assertThat(validator.validate(json.readTree(run.content()))).as(run.content()).isEmpty();
    }
    Run object = generate(constrained(EngineMessages.OutputConstraint.jsonObject(), 9, 20), false);
    assertThat(object.last().finishReason()).isEqualTo("stop");
    assertThat(json.readTree(object.content()).isObject()).as(object.content()).isTrue();
  }

  @Test
  void constrainedOutputIsContentEvenWhenThePromptOpensTheThinking() throws Exception {
    // the bundled model with an R1-style template: the generation prompt ends with <think>
    Path thinking = dataDir.resolve("tiny-think");
    java.nio.file.Files.createDirectories(thinking);
    try (var files = java.nio.file.Files.list(modelDir)) {
      for (Path f : files.toList()) {
        java.nio.file.Files.copy(f, thinking.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path config = thinking.resolve("tokenizer_config.json");
    String patched = java.nio.file.Files.readString(config)
        .replace("{{'<｜Assistant｜>'}}{% endif %}\"", "{{'<｜Assistant｜><think>\\n'}}{% endif %}\"");
    assertThat(patched).contains("<think>");
    java.nio.file.Files.writeString(config, patched);
    String deployment = await(vertx.deployVerticle(new EngineWorkerVerticle("tiny-think", thinking,
        new EngineOptions("cpu", 1, false, 2, 0), "test-node")));
    try {
      Run run = generate("tiny-think", CHAT, constrained(EngineMessages.OutputConstraint.jsonObject(), 4, 20), false);
      assertThat(run.events()).allSatisfy(e -> assertThat(e.reasoning()).isNullOrEmpty());
      assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.content()).isObject()).isTrue();
    } finally {
      await(vertx.undeploy(deployment)); // its announcements would confuse announcesTheModelItServes
    }
  }

  @Test
  void constrainedOutputClosesBeforeTheContextEndsToo() throws Exception {
    // a prompt that leaves 60 tokens of the 4096 context: max_tokens 500 must not be what the budget uses
    List<ChatMessage> chat;
    try (ServedModel model = ServedModel.load("measure", modelDir, new EngineOptions("cpu", 1, false, 1, 0))) {
      int words = 3900;
      do {
        chat = List.of(new ChatMessage("user", "word ".repeat(words++)));
      } while (model.prompt(chat).tokens().length < model.engine().info().maxContext() - 60);
    }
    Run run = generate("tiny-test", chat, constrained(EngineMessages.OutputConstraint.jsonSchema(PERSON), 2, 500),
        false);
    assertThat(run.last().finishReason()).isEqualTo("stop");
    assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.content()).isObject()).isTrue();
  }

  @Test
  void anUnenforceableConstraintIsABadRequest() {
    for (SamplingParams p : List.of(
        constrained(EngineMessages.OutputConstraint.jsonSchema("{\"type\":\"string\",\"pattern\":\"x\"}"), 1, 20),
        constrained(EngineMessages.OutputConstraint.jsonSchema(PERSON), 1, 5))) { // below the shortest output
      assertThatThrownBy(() -> await(vertx.eventBus().request(Addresses.engineGenerate("tiny-test"),
          new GenerateRequest("c", "t", "tiny-test", CHAT, p, "nowhere"))))
          .isInstanceOfSatisfying(java.util.concurrent.ExecutionException.class,
              e -> assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(400));
    }
  }
}
