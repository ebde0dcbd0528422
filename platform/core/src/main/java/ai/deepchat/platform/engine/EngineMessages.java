package ai.deepchat.platform.engine;

import ai.deepchat.platform.bus.StreamKind;

import java.util.List;

/** Event-bus contracts between the chat pipeline and the engine worker verticles. */
public final class EngineMessages {

  private EngineMessages() {
  }

  /**
   * The model key the bundled test model is served under ({@code engine.generate.tiny-test}): the
   * worker that serves it and the dispatcher that falls back to it agree here, not on each other.
   */
  public static final String TEST_MODEL_KEY = "tiny-test";

  public static final List<Class<? extends Record>> TYPES = List.of(
      GenerateRequest.class, GenerateAccepted.class, GenerationEvent.class, GenerationEvents.class,
      CancelGeneration.class,
      WorkerAnnouncement.class, ChatMessage.class, SamplingParams.class, Usage.class);

  /** One chat message as the model sees it (role: system, user, assistant). */
  public record ChatMessage(String role, String content) {
  }

  /** Sampling options; temperature 0 means greedy. */
  public record SamplingParams(double temperature, double topP, int topK, double repetitionPenalty,
                               long seed, int maxTokens, List<String> stop) {
    public static SamplingParams greedy(int maxTokens) {
      return new SamplingParams(0, 1, 0, 1, 0, maxTokens, List.of());
    }
  }

  /**
   * Starts a generation. Events are sent to {@code eventsAddress}: the caller's inbox for
   * {@link #GENERATION_STREAM} (batched, several generations per message), or an address of this
   * generation alone (one event per message). The reply to this request only acknowledges acceptance.
   */
  public record GenerateRequest(String requestId, String tenantId, String modelKey,
                                List<ChatMessage> messages, SamplingParams sampling,
                                String eventsAddress) {
  }

  /**
   * The reply to a {@link GenerateRequest}: which worker took it, and on which Vert.x node (see
   * {@code ClusterMembership}), so the caller can fail or retry early when that node leaves.
   */
  public record GenerateAccepted(String workerId, String nodeId) {
  }

  public record Usage(int promptTokens, int completionTokens) {
  }

  /**
   * One step of a generation: a text delta (content and/or reasoning), or the end with a finish reason
   * ("stop", "length", "cancelled", "error") and the usage. An ERROR whose finish reason is
   * {@link #HANDED_BACK} comes before any delta from a worker that is going away: the caller may start
   * the generation again elsewhere. {@code stamp}: the worker's admission and emission times (null from
   * senders that do not stamp), for the platform's added-latency metrics.
   */
  public record GenerationEvent(String requestId, Kind kind, String content, String reasoning,
                                String finishReason, Usage usage, String error, EngineStamp stamp) {
    public static final String HANDED_BACK = "handed_back";

    public enum Kind { DELTA, DONE, ERROR }

    /** An event without timing. */
    public GenerationEvent(String requestId, Kind kind, String content, String reasoning, String finishReason,
                           Usage usage, String error) {
      this(requestId, kind, content, reasoning, finishReason, usage, error, null);
    }
  }

  /** Events of several generations for one inbox, in order: what one engine step produced for it. */
  public record GenerationEvents(List<GenerationEvent> events) {
  }

  /** Generation events travel batched to per-context inboxes, keyed by request id. */
  public static final StreamKind<GenerationEvent, GenerationEvents> GENERATION_STREAM = new StreamKind<>(
      "engine", GenerationEvent.class, GenerationEvents.class, GenerationEvent::requestId,
      events -> new GenerationEvents(List.copyOf(events)), GenerationEvents::events);

  public record CancelGeneration(String requestId) {
  }

  /** A worker says which model keys it serves, and how busy it is. */
  public record WorkerAnnouncement(String workerId, String nodeId, List<String> modelKeys,
                                   int activeSequences, boolean leaving) {
  }
}
