package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.SamplingParams;

import java.util.List;

/** Runs one generation somewhere: the local engine over the bus, or an HTTP API. */
public interface ModelBackend {

  GenerationListener.Generation start(String requestId, String tenantId, List<ChatMessage> messages,
                                      SamplingParams sampling, GenerationListener listener);
}
