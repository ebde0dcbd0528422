package ai.deepchat.platform.chat;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.Usage;

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
      TurnRequest.class, TurnAck.class, TurnEvent.class, Citation.class, CancelTurn.class,
      RouteRequest.class, RouteDecision.class);

  /** Where a turn came from; matches conversations.channel. */
  public static final String CHANNEL_API = "api";
  public static final String CHANNEL_WIDGET = "widget";

  /**
   * Starts one turn. {@code messages}: for the API the caller's whole message list (the last one is the
   * new user turn); for the widget only the new user message (history comes from the database).
   * {@code idempotencyKey} makes retries safe: the same key never stores a second turn. Events go to
   * {@code eventsAddress}; the reply ({@link TurnAck}) is sent once the user turn is persisted.
   */
  public record TurnRequest(String turnId, String tenantId, String channel, String conversationId,
                            String visitorId, String idempotencyKey, List<ChatMessage> messages,
                            String requestedModel, SamplingParams sampling, String eventsAddress) {
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
   * usage, finish reason) or ERROR (code, message). A DELTA with neither is a keep-alive.
   */
  public record TurnEvent(String turnId, Kind kind, String content, String reasoning,
                          List<Citation> citations, String intent, Usage usage, String finishReason,
                          String errorCode, String error) {
    public enum Kind { DELTA, CITATIONS, DONE, ERROR }

    public static TurnEvent delta(String turnId, String content, String reasoning) {
      return new TurnEvent(turnId, Kind.DELTA, content, reasoning, null, null, null, null, null, null);
    }

    /** Nothing to show yet (an answer held back for post-processing); the edge's silence timer restarts. */
    public static TurnEvent keepAlive(String turnId) {
      return delta(turnId, null, null);
    }

    public boolean isKeepAlive() {
      return kind == Kind.DELTA && content == null && reasoning == null;
    }

    public static TurnEvent citations(String turnId, List<Citation> citations) {
      return new TurnEvent(turnId, Kind.CITATIONS, null, null, citations, null, null, null, null, null);
    }

    public static TurnEvent done(String turnId, String intent, Usage usage, String finishReason) {
      return new TurnEvent(turnId, Kind.DONE, null, null, null, intent, usage, finishReason, null, null);
    }

    public static TurnEvent error(String turnId, String code, String message) {
      return new TurnEvent(turnId, Kind.ERROR, null, null, null, null, null, "error", code, message);
    }

    public boolean terminal() {
      return kind == Kind.DONE || kind == Kind.ERROR;
    }
  }

  /** Published when the client of a turn went away; the node running it stops the generation. */
  public record CancelTurn(String turnId) {
  }

  /** Which path should answer {@code text} for this tenant. */
  public record RouteRequest(String tenantId, String text) {
  }

  /**
   * The router's choice: intent faq (with the answer), knowledge (with the knowledge base and its
   * version, retrieval still to do), or chat. {@code score}: FAQ similarity, or 1 for a forcing rule.
   */
  public record RouteDecision(String intent, double score, String faqId, String faqAnswer,
                              String knowledgeBaseId, long knowledgeBaseVersion) {
    public static final String FAQ = "faq";
    public static final String KNOWLEDGE = "knowledge";
    public static final String CHAT = "chat";

    public static RouteDecision chat(double score) {
      return new RouteDecision(CHAT, score, null, null, null, 0);
    }
  }
}
