package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.TurnTrace;

import java.util.List;
import java.util.Map;

/**
 * The router's decision as a trace shows it. The one place that reads the router's reply for a trace, so
 * a richer decision (per-path scores, FAQ candidates, the tenant's threshold) is wired here alone. Today's
 * {@link RouteDecision} carries one score (the best FAQ's similarity, or 1 for a forcing rule) and the
 * matched FAQ only; the threshold is not reported (null).
 */
final class RouteTrace {

  private RouteTrace() {
  }

  /** {@code decision} null: the router was not asked (a plugin answered, the message was blocked, a replay). */
  static TurnTrace.Routing routing(RouteDecision decision, String answeredFrom) {
    if (decision == null) {
      return new TurnTrace.Routing(answeredFrom, 1, Map.of(), null, answeredFrom);
    }
    return new TurnTrace.Routing(decision.intent(), decision.score(), Map.of(RouteDecision.FAQ, decision.score()),
        null, answeredFrom);
  }

  static List<TurnTrace.FaqCandidate> faqCandidates(RouteDecision decision) {
    if (decision == null || decision.faqId() == null) {
      return List.of();
    }
    return List.of(new TurnTrace.FaqCandidate(decision.faqId(), decision.score(), true));
  }
}
