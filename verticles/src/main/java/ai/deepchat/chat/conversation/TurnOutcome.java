package ai.deepchat.chat.conversation;

import ai.deepchat.platform.engine.EngineMessages.Usage;
import io.vertx.core.Future;

/**
 * How one turn ends. A turn has exactly one outcome, the first decided ({@link TurnRunner}): a client
 * leaving while the answer is stored, or a backend error after a refusal, changes nothing. An answer's
 * usage may be counted after the decision (the tokenizer runs on a worker), so it comes as a future.
 */
sealed interface TurnOutcome {

  /** A stored answer sent again: nothing is stored, "done" ends it. */
  record Replayed(String intent, Usage usage, String finishReason) implements TurnOutcome {
  }

  /** An answer known before the turn began, stored with it ({@link KnownAnswer}): "done" ends it. */
  record Stored(ai.deepchat.platform.chat.TurnTrace trace) implements TurnOutcome {
  }

  /** A whole answer: the tenant's post hooks run, then it is stored as complete and "done" ends it. */
  record Complete(Future<Usage> usage, String finishReason) implements TurnOutcome {
  }

  /**
   * The tenant's reply answered (the message or the answer reached a blocked word, or the answer recited
   * the system prompt): stored as blocked, no post hook changes it.
   */
  record Refused(Future<Usage> usage) implements TurnOutcome {
  }

  /** The client left or the node stops: the model stops, what was delivered is stored as interrupted. */
  record Cancelled() implements TurnOutcome {
  }

  /** The turn failed: what was delivered is stored as interrupted, then the client gets the error. */
  record Failed(String code, String message) implements TurnOutcome {
  }

  /** An answer whose usage is known now (no model ran: zero tokens). */
  static TurnOutcome complete(Usage usage, String finishReason) {
    return new Complete(Future.succeededFuture(usage), finishReason);
  }
}
