package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;
import ai.deepchat.platform.engine.EngineMessages.TokenLogprob;
import ai.deepchat.platform.engine.EngineMessages.Usage;
import ai.deepchat.platform.engine.EngineStamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A primary backend with a fallback that takes over only when the primary fails before its first
 * token: after that the user has seen part of an answer, and a second model would contradict it.
 */
final class FallbackBackend implements ModelBackend {

  private static final Logger LOG = LoggerFactory.getLogger(FallbackBackend.class);

  private final ModelBackend primary;
  private final ModelBackend fallback;
  private final String primaryName;

  public FallbackBackend(ModelBackend primary, ModelBackend fallback, String primaryName) {
    this.primary = primary;
    this.fallback = fallback;
    this.primaryName = primaryName;
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, GenerationListener listener) {
    return start(requestId, tenantId, messages, sampling, null, listener);
  }

  @Override
  public GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                             SamplingParams sampling, List<ToolSpec> tools,
                                             GenerationListener listener) {
    Run run = new Run();
    run.current = primary.start(requestId, tenantId, messages, sampling, tools, new GenerationListener() {
      @Override
      public void onDelta(String content, String reasoning) {
        run.started = true;
        listener.onDelta(content, reasoning);
      }

      @Override
      public void onDelta(String content, String reasoning, EngineStamp stamp) {
        run.started = true;
        listener.onDelta(content, reasoning, stamp);
      }

      @Override
      public void onToolCalls(List<ToolCallDelta> pieces) {
        run.started = true;
        listener.onToolCalls(pieces);
      }

      @Override
      public void onDelta(String content, String reasoning, EngineStamp stamp, List<TokenLogprob> logprobs) {
        run.started = true;
        listener.onDelta(content, reasoning, stamp, logprobs);
      }

      @Override
      public void onDone(String finishReason, Usage usage) {
        listener.onDone(finishReason, usage);
      }

      @Override
      public void onError(String code, String message) {
        if (run.started || run.cancelled) {
          listener.onError(code, message);
          return;
        }
        LOG.warn("request {}: primary {} failed before its first token ({}); using the fallback",
            requestId, primaryName, message);
        listener.onFallback(code, message);
        run.current = fallback.start(requestId + "-fb", tenantId, messages, sampling, tools, listener);
      }
    });
    return run;
  }

  private static final class Run implements GenerationListener.Generation {
    GenerationListener.Generation current;
    boolean started;
    boolean cancelled;

    @Override
    public void cancel() {
      cancelled = true;
      current.cancel();
    }
  }
}
