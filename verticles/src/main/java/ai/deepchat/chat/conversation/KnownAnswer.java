package ai.deepchat.chat.conversation;

import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.TurnTrace;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.UUID;

/**
 * An answer known before its turn is stored: the FAQ's, routed before the turn began. Its turn is stored
 * whole in one transaction ({@link ConversationStore#begin}), the answer row exactly as a finish would
 * write it (same statement, same values), and the turn then only sends it ({@link TurnRunner}).
 *
 * <p>Eligible only where nothing after routing could change the answer: no tenant plugins (post hooks
 * may rewrite it), no form to keep (response_format, a forced tool), no tools or picture in the turn.
 */
final class KnownAnswer {

  /** No model ran. */
  static final Usage NO_TOKENS = new Usage(0, 0);

  private final RouteDecision decision;
  private final TraceRecorder trace;
  private final boolean traceWanted;
  private TurnTrace traced;

  private KnownAnswer(RouteDecision decision, TraceRecorder trace, boolean traceWanted) {
    this.decision = decision;
    this.trace = trace;
    this.traceWanted = traceWanted;
  }

  /** The router's FAQ answer, or null when {@code decision} is not one. */
  static KnownAnswer faq(RouteDecision decision, TraceRecorder trace, boolean traceWanted) {
    if (decision == null || !RouteDecision.FAQ.equals(decision.intent())) {
      return null;
    }
    trace.answeredFrom(TurnTrace.FROM_FAQ);
    return new KnownAnswer(decision, trace, traceWanted);
  }

  RouteDecision decision() {
    return decision;
  }

  String text() {
    return decision.faqAnswer();
  }

  UUID faqEntryId() {
    return decision.faqId() == null ? null : UUID.fromString(decision.faqId());
  }

  /** The trace stored with the answer (null: the turn did not ask); the "done" event carries the same. */
  TurnTrace traced() {
    return traced;
  }

  /** The finish statement's row for this answer, its trace and timing taken now (as it is stored). */
  Tuple row(UUID conversationId, UUID answerId) {
    traced = traceWanted ? trace.build(NO_TOKENS, List.of()) : null;
    return ConversationStore.finishRow(conversationId, answerId, "complete", text(), null, List.of(),
        decision.intent(), decision.score(), NO_TOKENS, traced, "stop", List.of(), trace.timing(), faqEntryId());
  }
}
