package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.ChatMessages.FaqCandidate;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteScores;
import ai.deepchat.platform.chat.TurnTrace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The router's decision as a trace shows it: the one place that reads the router's reply for a trace.
 * The decision's {@code scores} (per-path scores, FAQ candidates, thresholds) fill it; a decision
 * without them (routing unavailable, a forcing rule) shows its one score.
 */
final class RouteTrace {

  private RouteTrace() {
  }

  /** {@code decision} null: the router was not asked (a plugin answered, the message was blocked, a replay). */
  static TurnTrace.Routing routing(RouteDecision decision, String answeredFrom) {
    if (decision == null) {
      return new TurnTrace.Routing(answeredFrom, 1, Map.of(), null, answeredFrom);
    }
    RouteScores scores = decision.scores();
    if (scores == null) {
      return new TurnTrace.Routing(decision.intent(), decision.score(), Map.of(decision.intent(), decision.score()),
          null, answeredFrom);
    }
    Map<String, Double> all = new LinkedHashMap<>();
    all.put(RouteDecision.FAQ, scores.faq());
    all.put("small_talk", scores.smallTalk());
    all.put(RouteDecision.KNOWLEDGE, scores.knowledge());
    Double threshold = scores.thresholds() == null ? null : switch (decision.intent()) {
      case RouteDecision.FAQ -> scores.thresholds().faq();
      case RouteDecision.KNOWLEDGE -> scores.thresholds().knowledge();
      default -> scores.thresholds().smallTalk();
    };
    return new TurnTrace.Routing(decision.intent(), decision.score(), all, threshold, answeredFrom);
  }

  static List<TurnTrace.FaqCandidate> faqCandidates(RouteDecision decision) {
    if (decision == null) {
      return List.of();
    }
    if (decision.scores() == null || decision.scores().faqCandidates() == null) {
      return decision.faqId() == null ? List.of()
          : List.of(new TurnTrace.FaqCandidate(decision.faqId(), decision.score(), true));
    }
    List<TurnTrace.FaqCandidate> out = new ArrayList<>();
    for (FaqCandidate c : decision.scores().faqCandidates()) {
      out.add(new TurnTrace.FaqCandidate(c.faqId(), c.score(), c.faqId().equals(decision.faqId())));
    }
    return out;
  }
}
