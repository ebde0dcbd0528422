package ai.deepchat.chat.conversation;

import ai.deepchat.platform.bus.StreamOutbox;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.chat.ChatMessages.Citation;
import ai.deepchat.platform.chat.ChatMessages.TurnEvent;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.tokenizer.tools.ToolCallAssembler;
import ai.deepchat.policy.moderation.PromptLeakGuard;
import ai.deepchat.policy.moderation.StreamingModerator;
import ai.deepchat.policy.moderation.TenantModeration;
import io.vertx.core.Vertx;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the client of one turn receives, and the answer so far (text and citations: what gets stored). Model deltas
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
  private final ToolCallAssembler toolCalls = new ToolCallAssembler();
  private List<Citation> citations = List.of();
  private final LogprobQueue logprobs = new LogprobQueue();
  private boolean buffered;
  private long lastSentNanos = System.nanoTime();
  private StreamingModerator contentModerator;
  private StreamingModerator reasoningModerator;
  private PromptLeakGuard contentGuard = PromptLeakGuard.forPrompt(null);
  private PromptLeakGuard reasoningGuard = PromptLeakGuard.forPrompt(null);
  // the turn's context's outbox, looked up once: a context-data lookup per token showed in the profile (#25)
  private StreamOutbox outbox;
  // how many events went out for this turn (joined ones count once): each carries its number, so the edge
  // sees one lost between nodes
  private int sent;

  private static final StreamingModerator.Output NOTHING = new StreamingModerator.Output("", false, List.of());

  /** Why a model delta ended the answer early. */
  enum Stop { NONE, BLOCKED_WORD, PROMPT_LEAK }

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

  /** Model deltas from now on may not recite {@code systemPrompt} (answer and reasoning alike). */
  void guardPrompt(PromptLeakGuard content, PromptLeakGuard reasoning) {
    contentGuard = content;
    reasoningGuard = reasoning;
  }

  /**
   * One delta from the model, guarded, moderated and delivered. Not {@link Stop#NONE} when it recited
   * the system prompt or reached a blocked word: the clean text before it was delivered, nothing after
   * it, and the caller stops the model.
   */
  Stop modelDelta(String c, String r, EngineStamp stamp) {
    logprobs.received(length(c) + length(r));
    PromptLeakGuard.Output gc = c == null ? null : contentGuard.accept(c);
    PromptLeakGuard.Output gr = r == null ? null : reasoningGuard.accept(r);
    boolean leaked = (gc != null && gc.leaked()) || (gr != null && gr.leaked());
    StreamingModerator.Output oc = moderate(contentModerator, gc == null ? null : gc.text(), leaked);
    StreamingModerator.Output or = moderate(reasoningModerator, gr == null ? null : gr.text(), leaked);
    if (leaked || wordListMatched()) {
      logprobs.drop(); // the tokens' own text would show what was masked or stopped
    }
    logprobs.delivered(oc.text().length() + or.text().length());
    deliver(oc.text(), or.text(), stamp, true);
    if (leaked) {
      return Stop.PROMPT_LEAK;
    }
    return oc.stopped() || or.stopped() ? Stop.BLOCKED_WORD : Stop.NONE;
  }

  /** Whether the word list has matched anything in this answer so far (masked or stopped text). */
  private boolean wordListMatched() {
    return contentModerator != null && !contentModerator.matchedWords().isEmpty()
        || reasoningModerator != null && !reasoningModerator.matchedWords().isEmpty();
  }

  /** The model finished: what the guards and moderators held back (a possible start) is delivered, masked. */
  void releaseHeldBack() {
    StreamingModerator.Output c = moderate(contentModerator, contentGuard.finish().text(), true);
    StreamingModerator.Output r = moderate(reasoningModerator, reasoningGuard.finish().text(), true);
    if (wordListMatched()) {
      logprobs.drop(); // as in modelDelta: masked text keeps no token texts
    }
    logprobs.delivered(c.text().length() + r.text().length());
    deliver(c.text(), r.text(), null);
  }

  /** {@code text} through {@code moderator} (null when there is none); {@code last}: the stream ends with it. */
  private static StreamingModerator.Output moderate(StreamingModerator moderator, String text, boolean last) {
    if (text == null) {
      return NOTHING; // a delta without this part (most have no reasoning): nothing to moderate
    }
    if (moderator == null) {
      return new StreamingModerator.Output(text, false, List.of());
    }
    StreamingModerator.Output out = moderator.accept(text);
    if (!last || out.stopped()) {
      return out;
    }
    StreamingModerator.Output rest = moderator.finish();
    return new StreamingModerator.Output(out.text() + rest.text(), rest.stopped(), out.matchedWords());
  }

  /**
   * Appends and sends (unless buffered) a delta; empty parts (all held back by moderation) are not sent.
   * {@code stamp}: the engine event this delta answers, passed on for the gateway's added-latency metrics.
   */
  void deliver(String c, String r, EngineStamp stamp) {
    deliver(c, r, stamp, false);
  }

  /** {@code joinable}: a model delta, which may travel joined with the turn's model deltas of the same task. */
  private void deliver(String c, String r, EngineStamp stamp, boolean joinable) {
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
      // numbered as send() would number it, so send() need not copy it to number it
      send(TurnEvent.delta(turnId, content0, reasoning0, stamp, sent + 1), joinable);
    } else if (System.nanoTime() - lastSentNanos > keepAliveMs * 1_000_000L) {
      send(TurnEvent.keepAlive(turnId));
    }
  }

  /** Pieces of the model's tool calls: kept for storage, and sent unless the answer is held back. */
  void toolCalls(List<ToolCallDelta> pieces) {
    toolCalls.accept(pieces);
    if (!buffered) {
      send(toolCallEvent(pieces));
    }
  }

  /** The tool calls so far, whole. */
  List<ToolCall> toolCalls() {
    return toolCalls.calls();
  }

  /** Stored tool calls (a replay) or held-back ones (a buffered answer) sent whole, one piece per call. */
  void sendWholeToolCalls(List<ToolCall> calls) {
    if (calls == null || calls.isEmpty()) {
      return;
    }
    if (toolCalls.isEmpty()) {
      toolCalls.accept(ToolCallAssembler.asPieces(calls));
    }
    send(toolCallEvent(ToolCallAssembler.asPieces(calls)));
  }

  private TurnEvent toolCallEvent(List<ToolCallDelta> pieces) {
    return new TurnEvent(turnId, TurnEvent.Kind.DELTA, null, null, null, null, null, null, null, null, null, null, 0,
        null, pieces, null, 0);
  }

  /** The sources the answer cites, sent before it (none: nothing sent). */
  void cite(List<Citation> cites) {
    citations = cites == null ? List.of() : cites;
    if (!citations.isEmpty()) {
      send(TurnEvent.citations(turnId, citations));
    }
  }

  /** A whole answer at once (stored, FAQ, cached, plugin, refusal), its citations first. */
  void whole(String text, String thinking, List<Citation> cites) {
    content.append(text == null ? "" : text);
    reasoning.append(thinking == null ? "" : thinking);
    cite(cites);
    if (!buffered) {
      send(TurnEvent.delta(turnId, text, thinking == null || thinking.isEmpty() ? null : thinking));
    }
  }

  /** The log-probabilities of a model delta's tokens: they go out with the next delta sent. */
  void logprobs(List<TokenLogprob> more) {
    logprobs.add(more);
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  /**
   * The model finished: log-probabilities of tokens whose text was held back or hidden go out now, on
   * a delta of their own; a buffered answer takes them along when it is sent.
   */
  void flushLogprobs() {
    if (!logprobs.isEmpty() && !buffered) {
      send(TurnEvent.delta(turnId, null, null).withLogprobs(logprobs.ready(true)));
    }
  }

  /**
   * Through the context's outbox: what one engine step gives the turns of one edge leaves as one message,
   * and a turn's model deltas of one task (the lines of one read from a remote model) as one delta.
   */
  void send(TurnEvent event) {
    send(event, false);
  }

  private void send(TurnEvent event, boolean joinable) {
    if (event.kind() == TurnEvent.Kind.DELTA && event.logprobs() == null && !logprobs.isEmpty()) {
      List<TokenLogprob> ready = logprobs.ready(false);
      if (!ready.isEmpty()) {
        event = event.withLogprobs(ready);
      }
    }
    lastSentNanos = System.nanoTime();
    if (outbox == null) {
      outbox = StreamOutbox.current(vertx);
    }
    if (event.seq() != sent + 1) {
      event = event.withSeq(sent + 1);
    }
    if (outbox == null) { // off any context: sent at once
      StreamOutbox.send(vertx, ChatMessages.TURN_STREAM, address, event);
    } else if (joinable) {
      if (outbox.sendJoined(ChatMessages.TURN_STREAM, address, event, TurnEvent::joined)) {
        return; // it travels in the held event, under that one's number
      }
    } else {
      outbox.send(ChatMessages.TURN_STREAM, address, event);
    }
    sent++;
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

  List<Citation> citations() {
    return citations;
  }

  /** The tenant's word-list entries the model's answer reached (masked or stopped at), in order found. */
  List<String> outputWords() {
    Set<String> words = new LinkedHashSet<>();
    if (contentModerator != null) {
      words.addAll(contentModerator.matchedWords());
      words.addAll(reasoningModerator.matchedWords());
    }
    return List.copyOf(words);
  }
}
