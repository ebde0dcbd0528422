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

  /**
   * A base model key and a LoRA adapter served over it form one model key, {@code <base>+<adapter>}
   * ({@code +} is in neither part): the worker that loaded the adapter serves that key, and a model
   * version whose location is it routes there like any other.
   */
  public static final String ADAPTER_SEPARATOR = "+";

  public static String adapterModelKey(String baseKey, String adapter) {
    return baseKey + ADAPTER_SEPARATOR + adapter;
  }

  public static final List<Class<? extends Record>> TYPES = List.of(
      GenerateRequest.class, GenerateAccepted.class, GenerationEvent.class, GenerationEvents.class,
      CancelGeneration.class,
      WorkerAnnouncement.class, ChatMessage.class, SamplingParams.class, Usage.class,
      ToolSpec.class, ToolCall.class, ToolCallDelta.class, OutputConstraint.class, TokenLogprob.class,
      TopLogprob.class);

  /**
   * One chat message as the model sees it (role: system, user, assistant, tool). {@code toolCalls}: the
   * calls an assistant message made (null or empty when none); {@code toolCallId}: on a tool message,
   * the call it answers. {@code imageUrl}: a picture the user sent with the text, as a {@code data:} URL,
   * set only on the way to a vision-capable OpenAI-compatible version, inside the node (the engine is
   * text-only and never gets one); null otherwise.
   */
  public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId,
                            String imageUrl) {
    public ChatMessage(String role, String content) {
      this(role, content, null, null, null);
    }

    public ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId) {
      this(role, content, toolCalls, toolCallId, null);
    }

    /** The same message with a picture ({@code data:} URL) for a vision-capable version. */
    public ChatMessage withImage(String dataUrl) {
      return new ChatMessage(role, content, toolCalls, toolCallId, dataUrl);
    }

    /**
     * A raw prompt for {@code /v1/completions}: as the only message of a request, the worker encodes
     * its text as it is (no chat template) and streams the output as plain content.
     */
    public static final String RAW_PROMPT = "raw_prompt";

    public static ChatMessage rawPrompt(String text) {
      return new ChatMessage(RAW_PROMPT, text);
    }

    /** Whether {@code messages} is one raw prompt. */
    public static boolean isRawPrompt(List<ChatMessage> messages) {
      return messages.size() == 1 && RAW_PROMPT.equals(messages.get(0).role());
    }

    /** The same message with other text (masked, neutralized), its tool fields kept. */
    public ChatMessage withContent(String replaced) {
      return new ChatMessage(role, replaced, toolCalls, toolCallId, imageUrl);
    }
  }

  /** A function the model may call; {@code parametersJson}: its JSON Schema as JSON text (null: none). */
  public record ToolSpec(String name, String description, String parametersJson) {
  }

  /** A call the assistant made: {@code arguments} is JSON text, as OpenAI carries it. */
  public record ToolCall(String id, String name, String arguments) {
  }

  /**
   * A piece of a tool call while it streams: the first piece of call {@code index} carries its id and
   * name, later ones only a further fragment of {@code arguments} (OpenAI's {@code delta.tool_calls}).
   */
  public record ToolCallDelta(int index, String id, String name, String arguments) {
  }

  /**
   * What the output must be, enforced token by token by constrained decoding: any JSON object, JSON
   * valid under {@code schemaJson}, or DeepSeek tool calls to {@code tools} (one, or several when
   * {@code parallel}) whose arguments are valid under each tool's parameters.
   */
  public record OutputConstraint(Kind kind, String schemaJson, List<ToolSpec> tools, boolean parallel) {
    public enum Kind { JSON_OBJECT, JSON_SCHEMA, TOOL_CALLS }

    public static OutputConstraint jsonObject() {
      return new OutputConstraint(Kind.JSON_OBJECT, null, null, false);
    }

    public static OutputConstraint jsonSchema(String schemaJson) {
      return new OutputConstraint(Kind.JSON_SCHEMA, schemaJson, null, false);
    }

    public static OutputConstraint toolCalls(List<ToolSpec> tools, boolean parallel) {
      return new OutputConstraint(Kind.TOOL_CALLS, null, List.copyOf(tools), parallel);
    }
  }

  /**
   * A generated token's log-probability and, when asked for, the most likely alternatives;
   * {@code bytes}: the token's UTF-8 bytes (a token may hold part of a character), as OpenAI sends them.
   */
  public record TokenLogprob(String token, double logprob, List<Integer> bytes, List<TopLogprob> top) {
  }

  public record TopLogprob(String token, double logprob, List<Integer> bytes) {
  }

  /**
   * Sampling options; temperature 0 means greedy. {@code constraint}: null for free text.
   * {@code topLogprobs}: -1 for no log-probabilities, else 0-20 alternatives per token. {@code n}: how
   * many choices to generate from the prompt.
   */
  public record SamplingParams(double temperature, double topP, int topK, double repetitionPenalty,
                               long seed, int maxTokens, List<String> stop, OutputConstraint constraint,
                               int topLogprobs, int n) {
    public SamplingParams(double temperature, double topP, int topK, double repetitionPenalty, long seed,
                          int maxTokens, List<String> stop) {
      this(temperature, topP, topK, repetitionPenalty, seed, maxTokens, stop, null, -1, 1);
    }

    public static SamplingParams greedy(int maxTokens) {
      return new SamplingParams(0, 1, 0, 1, 0, maxTokens, List.of());
    }

    public boolean logprobs() {
      return topLogprobs >= 0;
    }

    /** These options with the request-level fields (constraint, log-probabilities, n) of {@code request}. */
    public SamplingParams withOutputOf(SamplingParams request) {
      return new SamplingParams(temperature, topP, topK, repetitionPenalty, seed, maxTokens, stop,
          request.constraint, request.topLogprobs, request.n);
    }
  }

  /**
   * Starts a generation. Events are sent to {@code eventsAddress}: the caller's inbox for
   * {@link #GENERATION_STREAM} (batched, several generations per message), or an address of this
   * generation alone (one event per message). The reply to this request only acknowledges acceptance.
   */
  public record GenerateRequest(String requestId, String tenantId, String modelKey,
                                List<ChatMessage> messages, SamplingParams sampling,
                                String eventsAddress, List<ToolSpec> tools) {
    /** A generation without tools. */
    public GenerateRequest(String requestId, String tenantId, String modelKey, List<ChatMessage> messages,
                           SamplingParams sampling, String eventsAddress) {
      this(requestId, tenantId, modelKey, messages, sampling, eventsAddress, null);
    }
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
   * the generation again elsewhere. {@code toolCalls}: pieces of tool calls parsed from the output;
   * {@code logprobs}: one per token of this delta, when asked for; {@code choice}: which of the
   * request's n choices the event belongs to. {@code stamp}: the worker's admission and emission times (null from
   * senders that do not stamp), for the platform's added-latency metrics. {@code seq}: the event's number
   * in its generation (1, 2, ...), so the pipeline sees an event lost on the bus between nodes instead of
   * storing a silently shortened answer; 0: not numbered.
   */
  public record GenerationEvent(String requestId, Kind kind, String content, String reasoning,
                                String finishReason, Usage usage, String error, EngineStamp stamp,
                                List<ToolCallDelta> toolCalls, List<TokenLogprob> logprobs, int choice, int seq) {
    public static final String HANDED_BACK = "handed_back";

    public enum Kind { DELTA, DONE, ERROR }

    /** A not yet numbered event. */
    public GenerationEvent(String requestId, Kind kind, String content, String reasoning, String finishReason,
                           Usage usage, String error, EngineStamp stamp, List<ToolCallDelta> toolCalls,
                           List<TokenLogprob> logprobs, int choice) {
      this(requestId, kind, content, reasoning, finishReason, usage, error, stamp, toolCalls, logprobs, choice, 0);
    }

    /** This event numbered {@code n} in its generation. */
    public GenerationEvent withSeq(int n) {
      return new GenerationEvent(requestId, kind, content, reasoning, finishReason, usage, error, stamp, toolCalls,
          logprobs, choice, n);
    }

    /** An event of choice 0 without tool calls or log-probabilities. */
    public GenerationEvent(String requestId, Kind kind, String content, String reasoning, String finishReason,
                           Usage usage, String error, EngineStamp stamp) {
      this(requestId, kind, content, reasoning, finishReason, usage, error, stamp, null, null, 0);
    }

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

  /**
   * A worker says which model keys it serves, and how busy it is: {@code activeSequences} generations
   * running, {@code queued} waiting for a batch slot, on {@code device} ("cpu", "cuda:0"). A worker of an
   * older version sends neither of the last two (null, 0).
   */
  public record WorkerAnnouncement(String workerId, String nodeId, List<String> modelKeys,
                                   int activeSequences, boolean leaving, String device, int queued) {
    public WorkerAnnouncement(String workerId, String nodeId, List<String> modelKeys, int activeSequences,
                              boolean leaving) {
      this(workerId, nodeId, modelKeys, activeSequences, leaving, null, 0);
    }
  }
}
