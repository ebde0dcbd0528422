package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.StreamOutbox;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.policy.moderation.StreamingModerator;
import ai.deepchat.policy.moderation.TenantModeration;
import io.vertx.core.Vertx;

import java.util.List;

/**
 * What the client of one turn receives, and the answer text so far (what gets stored). Model deltas
 * pass the tenant's output word list as they stream (a word split across deltas is still caught);
 * while a post hook may rewrite the answer, deltas are held back and only keep-alives go out. One per
 * turn, used on the turn's context only.
 */
final class AnswerStream {

  private final Vertx vertx;
  private final String turnId;
  private final String address;
  private final long keepAliveMs;
  private final StringBuilder content = new StringBuilder();
  private final StringBuilder reasoning = new StringBuilder();
  private boolean buffered;
  private long lastSentNanos = System.nanoTime();
  private StreamingModerator contentModerator;
  private StreamingModerator reasoningModerator;

  /** {@code keepAliveMs}: the longest silence while buffered, well within the edge's silence limit. */
  AnswerStream(Vertx vertx, String turnId, String address, long keepAliveMs) {
    this.vertx = vertx;
    this.turnId = turnId;
    this.address = address;
    this.keepAliveMs = keepAliveMs;
  }

  /** Holds every delta back from now on (a post hook may rewrite the whole answer). */
  void buffer() {
    buffered = true;
  }

  boolean buffered() {
    return buffered;
  }

  /** Model deltas from now on pass the tenant's output word list. */
  void moderateWith(TenantModeration policy) {
    contentModerator = policy.outputModerator();
    reasoningModerator = policy.outputModerator();
  }

  /**
   * One delta from the model, moderated and delivered; true when it reached a blocked word (the
   * clean text before it was delivered, nothing after it: the caller stops the model).
   */
  boolean modelDelta(String c, String r, EngineStamp stamp) {
    StreamingModerator.Output oc = c == null || contentModerator == null ? null : contentModerator.accept(c);
    StreamingModerator.Output or = r == null || reasoningModerator == null ? null : reasoningModerator.accept(r);
    deliver(oc == null ? c : oc.text(), or == null ? r : or.text(), stamp);
    return (oc != null && oc.stopped()) || (or != null && or.stopped());
  }

  /** The model finished: what the moderators held back (a possible word start) is delivered, masked. */
  void releaseHeldBack() {
    deliver(contentModerator == null ? null : contentModerator.finish().text(),
        reasoningModerator == null ? null : reasoningModerator.finish().text(), null);
  }

  /**
   * Appends and sends (unless buffered) a delta; empty parts (all held back by moderation) are not sent.
   * {@code stamp}: the engine event this delta answers, passed on for the gateway's added-latency metrics.
   */
  void deliver(String c, String r, EngineStamp stamp) {
    String content0 = c == null || c.isEmpty() ? null : c;
    String reasoning0 = r == null || r.isEmpty() ? null : r;
    if (content0 == null && reasoning0 == null) {
      return;
    }
    if (content0 != null) {
      content.append(content0);
    }
    if (reasoning0 != null) {
      reasoning.append(reasoning0);
    }
    if (!buffered) {
      send(TurnEvent.delta(turnId, content0, reasoning0, stamp));
    } else if (System.nanoTime() - lastSentNanos > keepAliveMs * 1_000_000L) {
      send(TurnEvent.keepAlive(turnId));
    }
  }

  /** A whole answer at once (stored, FAQ, cached, plugin, refusal), its citations first. */
  void whole(String text, String thinking, List<Citation> cites) {
    content.append(text == null ? "" : text);
    reasoning.append(thinking == null ? "" : thinking);
    if (cites != null && !cites.isEmpty()) {
      send(TurnEvent.citations(turnId, cites));
    }
    if (!buffered) {
      send(TurnEvent.delta(turnId, text, thinking == null || thinking.isEmpty() ? null : thinking));
    }
  }

  /** Through the context's outbox: what one engine step gives the turns of one edge leaves as one message. */
  void send(TurnEvent event) {
    lastSentNanos = System.nanoTime();
    StreamOutbox.send(vertx, ChatMessages.TURN_STREAM, address, event);
  }

  long keepAliveMs() {
    return keepAliveMs;
  }

  String content() {
    return content.toString();
  }

  String reasoning() {
    return reasoning.toString();
  }
}
