package ai.deepchat.chat.conversation;

import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The log-probabilities of an answer's model tokens, held until their text has gone out: the word
 * list and the prompt guard hold back text that may still become a match, and a token's own text must
 * not get ahead of it. Once they mask or stop anything, the answer's log-probabilities end (the tokens
 * would show what was hidden). Counts characters of model text in and out; one per answer.
 */
final class LogprobQueue {

  private record Batch(List<TokenLogprob> tokens, long endChar) {
  }

  private final ArrayDeque<Batch> waiting = new ArrayDeque<>();
  private final List<TokenLogprob> unplaced = new ArrayList<>();
  private long received;
  private long delivered;
  private boolean dropped;

  /** The tokens of the model delta about to be {@link #received}. */
  void add(List<TokenLogprob> more) {
    if (!dropped && more != null) {
      unplaced.addAll(more);
    }
  }

  /** A model delta of {@code chars} characters came in (its tokens were {@link #add added} before). */
  void received(int chars) {
    received += chars;
    if (!unplaced.isEmpty()) {
      waiting.add(new Batch(List.copyOf(unplaced), received));
      unplaced.clear();
    }
  }

  /** {@code chars} characters of model text went out unchanged. */
  void delivered(int chars) {
    delivered += chars;
  }

  /** Model text was masked or stopped: no log-probabilities from now on. */
  void drop() {
    dropped = true;
    waiting.clear();
    unplaced.clear();
  }

  /** The tokens whose text has gone out (every one left when {@code all}: the model finished). */
  List<TokenLogprob> ready(boolean all) {
    List<TokenLogprob> out = new ArrayList<>();
    while (!waiting.isEmpty() && (all || waiting.peek().endChar() <= delivered)) {
      out.addAll(waiting.poll().tokens());
    }
    if (all) {
      out.addAll(unplaced);
      unplaced.clear();
    }
    return out;
  }

  boolean isEmpty() {
    return waiting.isEmpty() && unplaced.isEmpty();
  }
}
