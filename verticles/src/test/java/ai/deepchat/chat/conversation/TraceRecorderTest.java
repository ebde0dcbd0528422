package ai.deepchat.chat.conversation;

import ai.deepchat.canary.registry.Backend;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.registry.VersionState;
import ai.deepchat.canary.rollout.Arm;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.canary.rollout.Rollout;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.chat.dispatch.BackendSpec;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteScores;
import ai.deepchat.platform.chat.TurnTrace;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The trace's model arm and reason for each way a version is chosen, hits marked cited, disjoint latency. */
class TraceRecorderTest {

  private static final UUID TENANT = UUID.randomUUID();
  private static final ModelVersion STABLE = version("v-stable");
  private static final ModelVersion CANDIDATE = version("v-next");

  private static ModelVersion version(String name) {
    return new ModelVersion(UUID.randomUUID(), TENANT, name, Backend.LOCAL, "tiny", new JsonObject(), null,
        VersionState.STABLE, null, Instant.EPOCH, Instant.EPOCH);
  }

  private static Rollout rollout(RolloutMode mode) {
    return new Rollout(UUID.randomUUID(), Scope.tenant(TENANT), mode, STABLE.id(), CANDIDATE.id(), 1000,
        mode == RolloutMode.AB ? List.of(new Arm(STABLE.id(), 5000), new Arm(CANDIDATE.id(), 5000)) : List.of(),
        new JsonObject(), "active", null, Instant.EPOCH, Instant.EPOCH, null);
  }

  private static TurnTrace.ModelPick pick(ModelChoice choice) {
    TraceRecorder r = new TraceRecorder();
    r.modelAsked(choice, List.of());
    return r.build(new Usage(1, 2), List.of()).model();
  }

  private static ModelChoice choice(ModelVersion v, Assignment a) {
    return new ModelChoice(v == null ? null : v.id().toString(), v == null ? "deepseek-chat" : v.name(),
        BackendSpec.local("tiny"), null, 4096, false, a);
  }

  @Test
  void theArmAndReasonSayHowTheVersionWasChosen() {
    assertThat(pick(choice(null, null)).arm()).isEqualTo("default");
    assertThat(pick(choice(STABLE, null)).arm()).isEqualTo("stable");
    TurnTrace.ModelPick canary = pick(choice(CANDIDATE, new Assignment(CANDIDATE, Assignment.Role.CANDIDATE,
        rollout(RolloutMode.CANARY), 42, STABLE, null, false)));
    assertThat(canary.arm()).isEqualTo("canary");
    assertThat(canary.reason()).contains("bucket 42").contains("1000 basis points");
    assertThat(canary.name()).isEqualTo("v-next");
    assertThat(pick(choice(CANDIDATE, new Assignment(CANDIDATE, Assignment.Role.CANDIDATE,
        rollout(RolloutMode.AB), 7, STABLE, null, false))).arm()).isEqualTo("ab");
    TurnTrace.ModelPick stayed = pick(choice(STABLE, new Assignment(STABLE, Assignment.Role.STABLE,
        rollout(RolloutMode.CANARY), 5000, null, null, false)));
    assertThat(stayed.arm()).isEqualTo("stable");
    assertThat(stayed.reason()).contains("bucket 5000");
    TurnTrace.ModelPick rerouted = pick(choice(STABLE, new Assignment(STABLE, Assignment.Role.STABLE,
        rollout(RolloutMode.CANARY), 3, null, null, true)));
    assertThat(rerouted.reason()).contains("no live worker");
    assertThat(pick(choice(STABLE, new Assignment(STABLE, Assignment.Role.STABLE, rollout(RolloutMode.SHADOW), 3,
        null, CANDIDATE, false))).reason()).contains("shadow");
  }

  @Test
  void theRoutersRetrievalHasItsOwnFigureTakenOutOfRouting() throws Exception {
    TraceRecorder r = new TraceRecorder();
    r.started();
    Thread.sleep(20); // the router's work, 7.5 ms of it waiting for retrieval (as its decision says)
    RetrievedChunk hit = new RetrievedChunk("c1", "d1", "Guide", "Setup", "text", 0.2, 0.8, 0.03);
    r.routed(new RouteDecision(RouteDecision.KNOWLEDGE, 0.8, null, null, "kb", 4, List.of(hit), null,
        new RouteScores(0, 0.1, 0.8, List.of(), List.of(hit), null, "retrieval confident", 7.5)));
    TurnTrace t = r.build(new Usage(1, 1), List.of());
    assertThat(t.latency().retrievalMs()).isEqualTo(7.5);
    assertThat(t.latency().routingMs()).isGreaterThanOrEqualTo(20 - 7.5 - 0.001);
    assertThat(t.latency().routingMs() + t.latency().retrievalMs()).isLessThanOrEqualTo(t.latency().totalMs());
    assertThat(t.retrieval().hits()).hasSize(1);
  }

  @Test
  void hitsTheAnswerUsedAreCitedAndTheLatencyPartsDoNotOverlap() throws Exception {
    TraceRecorder r = new TraceRecorder();
    r.input(new ModerationVerdict(ModerationVerdict.Action.MASK, "masked", List.of("darn")));
    // the sleeps let real time pass between the steps (the recorder reads System.nanoTime), so each
    // latency part is measurably positive: they emulate work, they wait for no condition
    Thread.sleep(2);
    r.started();
    r.routed(new RouteDecision(RouteDecision.KNOWLEDGE, 0.31, null, null, "kb", 4));
    r.retrievalStarted();
    RetrievedChunk used = new RetrievedChunk("c1", "d1", "Guide", "Setup", "text", 2.5, 0.8, 0.03);
    RetrievedChunk other = new RetrievedChunk("c2", "d2", "Other", "", "text", 0, 0.2, 0.01);
    Thread.sleep(2);
    r.retrieved(new RetrieveReply("kb", 4, List.of(used, other)));
    r.modelAsked(choice(null, null), List.of(used));
    Thread.sleep(2);
    r.token();
    Thread.sleep(2);
    r.token();
    TurnTrace t = r.build(new Usage(10, 2), List.of("heck"));

    assertThat(t.routing().intent()).isEqualTo("knowledge");
    assertThat(t.routing().answeredFrom()).isEqualTo(TurnTrace.FROM_MODEL);
    assertThat(t.faqCandidates()).isEmpty();
    assertThat(t.retrieval().hits()).extracting(TurnTrace.Hit::cited).containsExactly(true, false);
    assertThat(t.retrieval().hits()).extracting(TurnTrace.Hit::rank).containsExactly(1, 2);
    assertThat(t.moderation()).isEqualTo(new TurnTrace.Moderation("mask", List.of("darn"), "mask", List.of("heck")));
    TurnTrace.Latency l = t.latency();
    assertThat(l.queueMs()).isGreaterThanOrEqualTo(2);
    assertThat(l.retrievalMs()).isGreaterThanOrEqualTo(2);
    assertThat(l.firstTokenMs()).isGreaterThanOrEqualTo(2);
    assertThat(l.generationMs()).isGreaterThanOrEqualTo(2);
    assertThat(l.queueMs() + l.routingMs() + l.retrievalMs() + l.firstTokenMs() + l.generationMs())
        .isLessThanOrEqualTo(l.totalMs() + 1e-9); // floating-point addition only
  }
}
