package ai.deepchat.chat.conversation;

import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.platform.chat.ChatMessages.QueryTranslation;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.TurnTrace;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict;
import ai.deepchat.platform.rag.RagMessages.RetrieveReply;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What one turn's steps saw, for its {@link TurnTrace}. Every turn has one: recording is a clock read or
 * a reference kept, so a turn that did not ask pays nothing more; {@link #build} (copies, the record) runs
 * only for a turn that asked. Used on the turn's context only.
 */
final class TraceRecorder {

  private final long arrived = System.nanoTime();
  private long started;
  private long routed;
  private long retrievalStarted;
  private long retrievalEnded;
  /** Of the routing time, how much the router spent waiting for retrieval (its own measure). */
  private double routerRetrievalMs;
  private long modelAsked;
  private long firstToken;
  private long lastToken;
  private ModerationVerdict input;
  private RouteDecision decision;
  private String answeredFrom = TurnTrace.FROM_MODEL;
  private RetrieveReply retrieval;
  private QueryTranslation translation;
  private List<RetrievedChunk> used = List.of();
  private ModelChoice model;
  private String fallback;
  private AnswerStream.Stop outputStop = AnswerStream.Stop.NONE;

  /** The new message's input moderation (null: not checked). */
  void input(ModerationVerdict verdict) {
    this.input = verdict;
  }

  /** The turn was acknowledged; its own steps start now. */
  void started() {
    if (started == 0) { // a turn routed before it was stored started then (ConversationVerticle)
      started = System.nanoTime();
    }
  }

  /** The router decided (after the tenant's plugins). */
  void routed(RouteDecision d) {
    decision = d;
    if (routed == 0) { // routed before the turn was stored: the decision arrived then
      routed = System.nanoTime();
    }
    // the router retrieves for a question that no FAQ or small talk answers: its hits are the trace's, and
    // the time it says it waited for them is retrieval's figure, taken out of routing's
    if (d != null && d.scores() != null) {
      routerRetrievalMs = Math.max(0, d.scores().retrievalMs());
      translation = d.scores().translation();
      if (d.scores().hits() != null && !d.scores().hits().isEmpty()) {
        retrieval = new RetrieveReply(d.knowledgeBaseId(), d.knowledgeBaseVersion(), d.scores().hits());
      }
    }
  }

  /** The answer came from {@code from} (TurnTrace.FROM_*); the model's unless said otherwise. */
  void answeredFrom(String from) {
    answeredFrom = from;
  }

  void retrievalStarted() {
    retrievalStarted = System.nanoTime();
  }

  /** Retrieval replied ({@code reply} null: it failed or timed out). */
  void retrieved(RetrieveReply reply) {
    retrievalEnded = System.nanoTime();
    retrieval = reply;
  }

  /** {@code choice} was asked to answer, from the prompt that used {@code sources}. */
  void modelAsked(ModelChoice choice, List<RetrievedChunk> sources) {
    modelAsked = System.nanoTime();
    model = choice;
    used = sources;
  }

  void token() {
    long now = System.nanoTime();
    if (firstToken == 0) {
      firstToken = now;
    }
    lastToken = now;
  }

  /** The primary backend failed before its first token ({@code code}); the fallback answers. */
  void fellBack(String code) {
    fallback = code;
  }

  /** The streamed answer was stopped by the word list or the prompt guard. */
  void outputStopped(AnswerStream.Stop stop) {
    outputStop = stop;
  }

  /**
   * The answer's timing for the overview: milliseconds from arrival to the first token (to now when no
   * model token came: a FAQ, cached or refused answer is delivered whole) and to now. Kept for every turn.
   */
  AnswerTiming timing() {
    long end = System.nanoTime();
    long first = firstToken == 0 ? end : firstToken;
    return new AnswerTiming((int) Math.min(Integer.MAX_VALUE, (first - arrived) / 1_000_000L),
        (int) Math.min(Integer.MAX_VALUE, (end - arrived) / 1_000_000L));
  }

  /** Milliseconds from a turn's arrival to its first token and to its end. */
  record AnswerTiming(int firstTokenMs, int answerMs) {
  }

  /** The trace as of now (the answer complete or ended); {@code outputWords}: entries the answer reached. */
  TurnTrace build(Usage usage, List<String> outputWords) {
    long end = System.nanoTime();
    return new TurnTrace(RouteTrace.routing(decision, answeredFrom), RouteTrace.faqCandidates(decision),
        retrieval(), modelPick(), moderation(outputWords), usage, latency(end), translation);
  }

  private TurnTrace.Retrieval retrieval() {
    if (retrieval == null) {
      return null;
    }
    Set<String> cited = used.stream().map(RetrievedChunk::chunkId).collect(Collectors.toSet());
    List<TurnTrace.Hit> hits = new ArrayList<>();
    List<RetrievedChunk> chunks = retrieval.hits() == null ? List.of() : retrieval.hits();
    for (int i = 0; i < chunks.size(); i++) {
      RetrievedChunk c = chunks.get(i);
      hits.add(new TurnTrace.Hit(i + 1, c.documentId(), c.documentTitle(), c.sectionPath(), c.lexicalScore(),
          c.vectorScore(), c.fusedScore(), cited.contains(c.chunkId())));
    }
    return new TurnTrace.Retrieval(retrieval.knowledgeBaseId(), retrieval.knowledgeBaseVersion(), List.copyOf(hits));
  }

  private TurnTrace.ModelPick modelPick() {
    if (model == null) {
      return null;
    }
    String arm;
    String reason;
    Assignment a = model.assignment();
    if (a == null) {
      arm = model.versionId() == null ? "default" : "stable";
      reason = model.versionId() == null ? "the platform's default model: the workspace has no stable version"
          : "the workspace's stable version";
    } else if (a.rollout() == null) {
      arm = "stable";
      reason = "the stable version: no rollout is active";
    } else if (a.rerouted()) {
      arm = "stable";
      reason = "the rollout's choice has no live worker: the stable version answers";
    } else if (a.candidate()) {
      arm = a.rollout().mode().sql();
      reason = a.rollout().mode() == RolloutMode.AB
          ? "A/B rollout: the conversation's bucket " + a.bucket() + " falls in this version's arm"
          : "canary rollout: the conversation's bucket " + a.bucket() + " is within the candidate's "
              + a.rollout().basisPoints() + " basis points";
    } else {
      arm = "stable";
      reason = a.shadow() != null
          ? "shadow rollout: the stable version answers, the candidate answers in the background"
          : "rollout active: the conversation's bucket " + a.bucket() + " stays on the stable version";
    }
    if (fallback != null) {
      reason += "; the primary failed before its first token (" + fallback + "), the fallback answered";
    }
    return new TurnTrace.ModelPick(model.name(), model.versionId(), arm, reason, model.testModel());
  }

  private TurnTrace.Moderation moderation(List<String> outputWords) {
    String in = input == null ? "unchecked" : input.action().name().toLowerCase(java.util.Locale.ROOT);
    List<String> inWords = input == null || input.matchedWords() == null ? List.of() : input.matchedWords();
    String out = switch (outputStop) {
      case NONE -> outputWords.isEmpty() ? "none" : "mask";
      case BLOCKED_WORD -> "blocked_word";
      case PROMPT_LEAK -> "prompt_leak";
    };
    return new TurnTrace.Moderation(in, List.copyOf(inWords), out, List.copyOf(outputWords));
  }

  /**
   * Disjoint parts of the time from arrival to {@code end}; a step that did not run counts 0. Whole
   * microseconds, parts rounded down and the total up, so the parts never add up to more than the total.
   */
  private TurnTrace.Latency latency(long end) {
    long start = started == 0 ? end : started;
    // the router's retrieval is part of the routing time: whole microseconds, never more than that time
    long routingMicros = routed == 0 || routed < start ? 0 : (routed - start) / 1_000L;
    long routerRetrievalMicros = Math.min(routingMicros, (long) (routerRetrievalMs * 1_000));
    return new TurnTrace.Latency(ms(arrived, start), (routingMicros - routerRetrievalMicros) / 1_000.0,
        routerRetrievalMicros / 1_000.0 + ms(retrievalStarted, retrievalEnded),
        ms(modelAsked, firstToken), ms(firstToken, lastToken), -Math.floorDiv(arrived - end, 1_000L) / 1_000.0);
  }

  private static double ms(long from, long to) {
    if (from == 0 || to == 0 || to < from) {
      return 0;
    }
    return ((to - from) / 1_000L) / 1_000.0;
  }
}
