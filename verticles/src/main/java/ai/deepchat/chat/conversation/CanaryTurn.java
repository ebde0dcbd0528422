package ai.deepchat.chat.conversation;

import ai.deepchat.canary.CanaryServices;
import ai.deepchat.canary.guard.Outcome;
import ai.deepchat.canary.rollout.Assignment;
import ai.deepchat.chat.dispatch.Backends;
import ai.deepchat.chat.dispatch.CanaryModelDispatcher;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.WholeAnswer;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;

/**
 * One generation as rollout routing sees it: its outcome goes to the rollout guard (a candidate that
 * failed before its first token counts as failed even though its stable fallback then answered), and a
 * shadow candidate answers the same prompt in the background, its answer given only to the shadow
 * recorder. Does nothing for a turn that rollout routing did not choose.
 */
final class CanaryTurn {

  private static final Logger LOG = LoggerFactory.getLogger(CanaryTurn.class);

  /** Rollout routing's parts, absent (null) on a pipeline deployed without it. */
  record Routing(CanaryServices services, CanaryModelDispatcher dispatcher) {
  }

  private final Routing routing;
  private Assignment current;
  private long startedAt = System.nanoTime();
  private long firstTokenAt = -1;

  CanaryTurn(Routing routing, ModelChoice model) {
    this.routing = routing;
    this.current = routing == null ? null : model.assignment();
  }

  void onToken() {
    if (firstTokenAt < 0) {
      firstTokenAt = System.nanoTime();
    }
  }

  /** The candidate failed before its first token; its stable fallback answers from now on. */
  void onFallback(String code) {
    if (current == null) {
      return;
    }
    report(Outcome.failure(code, millis(startedAt)));
    Assignment a = current;
    current = a.fallback() == null ? null
        : new Assignment(a.fallback(), Assignment.Role.STABLE, a.rollout(), a.bucket(), null, null, false);
    startedAt = System.nanoTime();
    firstTokenAt = -1;
  }

  void onDone(int completionTokens, boolean moderationHit) {
    if (current != null) {
      long ttft = firstTokenAt < 0 ? -1 : (firstTokenAt - startedAt) / 1_000_000;
      report(new Outcome(true, null, ttft, completionTokens, millis(startedAt), moderationHit));
    }
  }

  void onError(String code) {
    if (current != null) {
      report(Outcome.failure(code, millis(startedAt)));
    }
  }

  private void report(Outcome o) {
    Assignment a = current;
    routing.services().outcomes().record(a, o)
        .onFailure(err -> LOG.warn("outcome of {} not recorded: {}", a.version().name(), err.toString()));
  }

  /**
   * Asks the shadow candidate (if the assignment has one) the same prompt through the same backends,
   * after the stable answer is complete, and stores the pair. Never reaches the caller.
   */
  void shadow(Backends backends, String turnId, UUID tenantId, UUID conversationId, List<ChatMessage> prompt,
              SamplingParams sampling, String question, String stableAnswer) {
    Assignment a = routing == null ? null : current;
    if (a == null || a.shadow() == null) {
      return;
    }
    ModelChoice candidate = routing.dispatcher().choiceOf(a.shadow());
    backends.forChoice(candidate).start(turnId + "-shadow", tenantId.toString(), prompt, sampling,
        new WholeAnswer() {
          @Override
          protected void onAnswer(String answer, String finishReason, Usage usage) {
            store(answer, null);
          }

          @Override
          public void onError(String code, String message) {
            store(null, code + ": " + message);
          }

          private void store(String candidateAnswer, String error) {
            routing.services().shadow().record(tenantId, conversationId, a, question, stableAnswer, candidateAnswer,
                    error)
                .onFailure(err -> LOG.warn("turn {}: shadow answer not stored: {}", turnId, err.toString()));
          }
        });
  }

  private static long millis(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }
}
