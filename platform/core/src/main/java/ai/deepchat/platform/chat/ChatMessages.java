package ai.deepchat.platform.chat;

import ai.deepchat.platform.bus.StreamKind;
import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import ai.deepchat.platform.rag.RagMessages.RetrievedChunk;

import java.util.ArrayList;
import java.util.List;

/**
 * Event-bus contracts of the chat pipeline: the gateway's HTTP edges (OpenAI API, widget) start turns
 * on the conversation verticle and receive the answer as a stream of {@link TurnEvent}s; the
 * conversation verticle asks the intent router where a question should go.
 */
public final class ChatMessages {

  private ChatMessages() {
  }

  public static final List<Class<? extends Record>> TYPES = List.of(
      TurnRequest.class, TurnAck.class, TurnEvent.class, TurnEvents.class, Citation.class, CancelTurn.class,
      RouteRequest.class, RouteDecision.class, FaqCandidate.class, RouteThresholds.class, RouteScores.class,
      TurnTrace.class, QueryTranslation.class, TranslateRequest.class);

  /** The answer to a picture when the answering version does not read pictures (it is not asked). */
  public static final String PICTURE_NOT_READ = "图片已收到，但目前的模型无法识别图片，请用文字描述您的问题。(Picture "
      + "received, but the current model cannot read pictures: please describe your question in words.)";

  /** Where a turn came from; matches conversations.channel. */
  public static final String CHANNEL_API = "api";
  public static final String CHANNEL_WIDGET = "widget";
  /** The console's playground: staff of the tenant; history from the database, as for the widget. */
  public static final String CHANNEL_CONSOLE = "console";

  /**
   * Starts one turn. {@code messages}: for the API the caller's whole message list (the last one is the
   * new user turn); for the widget only the new user message (history comes from the database).
   * {@code idempotencyKey} makes retries safe: the same key never stores a second turn. Events go to
   * {@code eventsAddress} (the edge's inbox for {@link #TURN_STREAM}, or an address of this turn alone); the reply ({@link TurnAck}) is sent once the user turn is persisted.
   * {@code trace}: the final event carries a {@link TurnTrace} and the answer row stores it.
   */
  public record TurnRequest(String turnId, String tenantId, String channel, String conversationId,
                            String visitorId, String idempotencyKey, List<ChatMessage> messages,
                            String requestedModel, SamplingParams sampling, String eventsAddress, boolean trace,
                            List<ToolSpec> tools, String mediaId) {

    /**
     * A turn without a picture. {@code mediaId} (else): the tenant's stored picture (channel_media) the new
     * user message carries; the bytes stay in PostgreSQL, only the id travels on the bus.
     */
    public TurnRequest(String turnId, String tenantId, String channel, String conversationId, String visitorId,
                       String idempotencyKey, List<ChatMessage> messages, String requestedModel,
                       SamplingParams sampling, String eventsAddress, boolean trace, List<ToolSpec> tools) {
      this(turnId, tenantId, channel, conversationId, visitorId, idempotencyKey, messages, requestedModel, sampling,
          eventsAddress, trace, tools, null);
    }

    /** A turn without tools. */
    public TurnRequest(String turnId, String tenantId, String channel, String conversationId, String visitorId,
                       String idempotencyKey, List<ChatMessage> messages, String requestedModel,
                       SamplingParams sampling, String eventsAddress, boolean trace) {
      this(turnId, tenantId, channel, conversationId, visitorId, idempotencyKey, messages, requestedModel, sampling,
          eventsAddress, trace, null);
    }

    /** A turn without a trace. */
    public TurnRequest(String turnId, String tenantId, String channel, String conversationId, String visitorId,
                       String idempotencyKey, List<ChatMessage> messages, String requestedModel,
                       SamplingParams sampling, String eventsAddress) {
      this(turnId, tenantId, channel, conversationId, visitorId, idempotencyKey, messages, requestedModel, sampling,
          eventsAddress, false, null);
    }

    /** The same turn, its events sent to {@code address}. */
    public TurnRequest withEventsAddress(String address) {
      return new TurnRequest(turnId, tenantId, channel, conversationId, visitorId, idempotencyKey, messages,
          requestedModel, sampling, address, trace, tools, mediaId);
    }

    /** The same turn with {@code replaced} as its messages (the new one masked, say). */
    public TurnRequest withMessages(List<ChatMessage> replaced) {
      return new TurnRequest(turnId, tenantId, channel, conversationId, visitorId, idempotencyKey, replaced,
          requestedModel, sampling, eventsAddress, trace, tools, mediaId);
    }
  }

  /** The user turn is stored; {@code replay} says the answer is a stored one being sent again. */
  public record TurnAck(String turnId, String conversationId, String userMessageId,
                        String assistantMessageId, String model, boolean testModel, boolean replay) {
  }

  /** A numbered source of an answer (n matches the [n] markers the model was asked to use). */
  public record Citation(int n, String title, String section, String documentId) {
  }

  /**
   * One step of an answer: DELTA (content and/or reasoning), CITATIONS, then exactly one DONE (intent,
   * usage, finish reason, the trace when asked for) or ERROR (code, message). A DELTA may carry pieces
   * of tool calls and per-token log-probabilities; {@code choice} says which of n choices it belongs to. A DELTA with neither is a keep-alive. A delta
   * generated by the local engine carries the worker's {@code engine} stamp, so the gateway can measure
   * the latency the platform added. {@code seq}: the event's number in its turn (1, 2, ...), set by the
   * sender as it sends, so an edge sees an event lost on the bus (at most once between nodes) instead of
   * handing on a silently shortened answer; 0: not numbered (a sender that does not, or the edge's own).
   */
  public record TurnEvent(String turnId, Kind kind, String content, String reasoning,
                          List<Citation> citations, String intent, Usage usage, String finishReason,
                          String errorCode, String error, EngineStamp engine, String faqId, double score,
                          TurnTrace trace, List<ToolCallDelta> toolCalls, List<TokenLogprob> logprobs,
                          int choice, int seq) {
    public enum Kind { DELTA, CITATIONS, DONE, ERROR }

    /** A not yet numbered event. */
    public TurnEvent(String turnId, Kind kind, String content, String reasoning, List<Citation> citations,
                     String intent, Usage usage, String finishReason, String errorCode, String error,
                     EngineStamp engine, String faqId, double score, TurnTrace trace,
                     List<ToolCallDelta> toolCalls, List<TokenLogprob> logprobs, int choice) {
      this(turnId, kind, content, reasoning, citations, intent, usage, finishReason, errorCode, error, engine, faqId,
          score, trace, toolCalls, logprobs, choice, 0);
    }

    /** An event of choice 0 without tool calls or log-probabilities. */
    public TurnEvent(String turnId, Kind kind, String content, String reasoning, List<Citation> citations,
                     String intent, Usage usage, String finishReason, String errorCode, String error,
                     EngineStamp engine, String faqId, double score, TurnTrace trace) {
      this(turnId, kind, content, reasoning, citations, intent, usage, finishReason, errorCode, error, engine, faqId,
          score, trace, null, null, 0);
    }

    /** An event without a trace (only DONE of a traced turn has one). */
    public TurnEvent(String turnId, Kind kind, String content, String reasoning, List<Citation> citations,
                     String intent, Usage usage, String finishReason, String errorCode, String error,
                     EngineStamp engine) {
      this(turnId, kind, content, reasoning, citations, intent, usage, finishReason, errorCode, error, engine, null, 0,
          null);
    }

    public static TurnEvent delta(String turnId, String content, String reasoning) {
      return delta(turnId, content, reasoning, null);
    }

    public static TurnEvent delta(String turnId, String content, String reasoning, EngineStamp engine) {
      return new TurnEvent(turnId, Kind.DELTA, content, reasoning, null, null, null, null, null, null, engine);
    }

    /** A text delta numbered {@code seq} in its turn: one record per model delta instead of two (#25). */
    public static TurnEvent delta(String turnId, String content, String reasoning, EngineStamp engine, int seq) {
      return new TurnEvent(turnId, Kind.DELTA, content, reasoning, null, null, null, null, null, null, engine, null, 0,
          null, null, null, 0, seq);
    }

    /** Nothing to show yet (an answer held back for post-processing); the edge's silence timer restarts. */
    public static TurnEvent keepAlive(String turnId) {
      return delta(turnId, null, null);
    }

    /** This event carrying {@code replaced} as its log-probabilities. */
    public TurnEvent withLogprobs(List<TokenLogprob> replaced) {
      return new TurnEvent(turnId, kind, content, reasoning, citations, intent, usage, finishReason, errorCode, error,
          engine, faqId, score, trace, toolCalls, replaced, choice, seq);
    }

    /** This event numbered {@code n} in its turn. */
    public TurnEvent withSeq(int n) {
      return new TurnEvent(turnId, kind, content, reasoning, citations, intent, usage, finishReason, errorCode, error,
          engine, faqId, score, trace, toolCalls, logprobs, choice, n);
    }

    public boolean isKeepAlive() {
      return kind == Kind.DELTA && content == null && reasoning == null && (toolCalls == null || toolCalls.isEmpty())
          && (logprobs == null || logprobs.isEmpty());
    }

    public static TurnEvent citations(String turnId, List<Citation> citations) {
      return new TurnEvent(turnId, Kind.CITATIONS, null, null, citations, null, null, null, null, null, null);
    }

    public static TurnEvent done(String turnId, String intent, Usage usage, String finishReason) {
      return done(turnId, intent, usage, finishReason, null, 0, null);
    }

    /**
     * The last event of a complete answer, with the router's score, the FAQ entry that answered (null for
     * other paths), and the trace (null unless the turn asked for one).
     */
    public static TurnEvent done(String turnId, String intent, Usage usage, String finishReason, String faqId,
                                 double score, TurnTrace trace) {
      return new TurnEvent(turnId, Kind.DONE, null, null, null, intent, usage, finishReason, null, null, null, faqId,
          score, trace);
    }

    public static TurnEvent error(String turnId, String code, String message) {
      return new TurnEvent(turnId, Kind.ERROR, null, null, null, null, null, "error", code, message, null);
    }

    public boolean terminal() {
      return kind == Kind.DONE || kind == Kind.ERROR;
    }

    /** Text (answer or reasoning) of one choice and no tool-call pieces: may travel joined with the next such delta. */
    private boolean joinable() {
      return kind == Kind.DELTA && (content != null || reasoning != null) && (toolCalls == null || toolCalls.isEmpty());
    }

    /**
     * {@code earlier} and {@code later}, two text deltas of one turn and choice with nothing of that turn
     * between them, as one delta (texts and log-probabilities in order, the first engine stamp, so the
     * measured added latency is the longer); null when either is another event. Senders join what one
     * task produced for a turn, so the edge writes once for it instead of once per token. The joined
     * event keeps the earlier one's number: the sender numbers the next event after it (see
     * {@code StreamOutbox#sendJoined}).
     */
    public static TurnEvent joined(TurnEvent earlier, TurnEvent later) {
      return earlier.joinable() && later.joinable() && earlier.choice == later.choice
          && earlier.turnId.equals(later.turnId) ? earlier.join(later) : null;
    }

    private TurnEvent join(TurnEvent next) {
      return new TurnEvent(turnId, kind, concat(content, next.content), concat(reasoning, next.reasoning), null, null,
          null, null, null, null, engine != null ? engine : next.engine, null, 0, null, null,
          concat(logprobs, next.logprobs), choice, seq);
    }

    private static String concat(String a, String b) {
      return a == null ? b : b == null ? a : a + b;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
      if (a == null || a.isEmpty()) {
        return b;
      }
      if (b == null || b.isEmpty()) {
        return a;
      }
      List<T> both = new ArrayList<>(a);
      both.addAll(b);
      return both;
    }
  }

  /** Events of several turns for one inbox, in order. */
  public record TurnEvents(List<TurnEvent> events) {
  }

  /** Turn events travel batched to the edges' per-context inboxes, keyed by turn id. */
  public static final StreamKind<TurnEvent, TurnEvents> TURN_STREAM = new StreamKind<>(
      "turn", TurnEvent.class, TurnEvents.class, TurnEvent::turnId,
      events -> new TurnEvents(List.copyOf(events)), TurnEvents::events);

  /** Published when the client of a turn went away; the node running it stops the generation. */
  public record CancelTurn(String turnId) {
  }

  /** Which path should answer {@code text} for this tenant. */
  public record RouteRequest(String tenantId, String text) {
  }

  /** {@code text} in the knowledge base's other language, by this tenant's model (Addresses.CHAT_TRANSLATE). */
  public record TranslateRequest(String tenantId, String text) {
  }

  /**
   * The router's choice, with everything it was decided from: intent faq (the entry and its answer),
   * knowledge (the knowledge base, its version, and the sources above the citation cut-off the answer
   * is built from), chat (the model answers without sources), or handoff ({@code reply}: "I don't
   * know", with how to reach a person). {@code score}: the winning path's score (FAQ similarity,
   * retrieval confidence, small-talk similarity; 1 for a forcing rule). {@code scores}: every path's
   * score, the FAQ candidates, the retrieval hits and the thresholds used (null when routing was
   * skipped, e.g. a blocked message).
   */
  public record RouteDecision(String intent, double score, String faqId, String faqAnswer,
                              String knowledgeBaseId, long knowledgeBaseVersion, List<RetrievedChunk> sources,
                              String reply, RouteScores scores) {
    public static final String FAQ = "faq";
    public static final String KNOWLEDGE = "knowledge";
    public static final String CHAT = "chat";
    public static final String HANDOFF = "handoff";

    public RouteDecision(String intent, double score, String faqId, String faqAnswer, String knowledgeBaseId,
                         long knowledgeBaseVersion) {
      this(intent, score, faqId, faqAnswer, knowledgeBaseId, knowledgeBaseVersion, List.of(), null, null);
    }

    public static RouteDecision chat(double score) {
      return new RouteDecision(CHAT, score, null, null, null, 0);
    }

    /** The same decision, the knowledge base at {@code version} (what retrieval saw). */
    public RouteDecision withKnowledgeVersion(String kbId, long version) {
      return new RouteDecision(intent, score, faqId, faqAnswer, kbId, version, sources, reply, scores);
    }
  }

  /** One FAQ entry as the router scored it against the question (normalized text, embeddings). */
  public record FaqCandidate(String faqId, String question, double score) {
  }

  /**
   * The tenant's routing thresholds: an FAQ answers at {@code faq} similarity or more; the knowledge
   * base answers when its best passage scores {@code knowledge} or more, and a passage is given to the
   * model (and cited) only at {@code citation} or more; small talk goes to the model at {@code smallTalk}.
   */
  public record RouteThresholds(double faq, double knowledge, double citation, double smallTalk) {
  }

  /**
   * Every path's score for one question: {@code faq} the best FAQ similarity, {@code smallTalk} the
   * best similarity to greetings, small talk and plain tasks, {@code knowledge} the best passage's
   * vector score (-1: no retrieval ran). {@code faqCandidates} best first, {@code hits} retrieval's top
   * hits with their lexical, vector and fused scores; {@code reason} says in words why the intent won;
   * {@code retrievalMs} how long the router waited for retrieval (0: none ran), so a trace can tell it
   * from the rest of routing.
   */
  public record RouteScores(double faq, double smallTalk, double knowledge, List<FaqCandidate> faqCandidates,
                            List<RetrievedChunk> hits, RouteThresholds thresholds, String reason,
                            double retrievalMs, QueryTranslation translation) {

    /** Scores of a question whose retrieval did not consider a translation. */
    public RouteScores(double faq, double smallTalk, double knowledge, List<FaqCandidate> faqCandidates,
                       List<RetrievedChunk> hits, RouteThresholds thresholds, String reason, double retrievalMs) {
      this(faq, smallTalk, knowledge, faqCandidates, hits, thresholds, reason, retrievalMs, null);
    }
  }

  /**
   * What the router's query translation did for one searched question (issue #15): {@code status}
   * translated, off (the tenant has it off), test_model (the bundled test model never translates),
   * skipped (empty or too long a question) or failed (an error or the timeout; {@code detail} says
   * which); {@code text} the translation searched beside the question (translated only), {@code ms} how
   * long it took, {@code cached} when the cache answered without asking the model.
   */
  public record QueryTranslation(String status, String text, double ms, boolean cached, String detail) {
    public static final String TRANSLATED = "translated";
    public static final String OFF = "off";
    public static final String TEST_MODEL = "test_model";
    public static final String SKIPPED = "skipped";
    public static final String FAILED = "failed";

    public static QueryTranslation not(String status, double ms, String detail) {
      return new QueryTranslation(status, null, ms, false, detail);
    }

    /** The text to search beside the question, or null. */
    public String searched() {
      return TRANSLATED.equals(status) ? text : null;
    }
  }
}
