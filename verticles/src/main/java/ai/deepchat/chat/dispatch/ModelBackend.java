package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;

import java.util.List;

/** Runs one generation somewhere: the local engine over the bus, or an HTTP API. */
public interface ModelBackend {

  GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                      SamplingParams sampling, GenerationListener listener);

  /**
   * A generation that may call {@code tools} (null or empty: none). The local engine and OpenAI-style
   * APIs take them; a backend without tool support answers as if none were offered.
   */
  default GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                              SamplingParams sampling, List<ToolSpec> tools,
                                              GenerationListener listener) {
    return start(requestId, tenantId, messages, sampling, listener);
  }
}
