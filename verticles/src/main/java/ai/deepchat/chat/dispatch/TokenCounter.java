package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;

import java.util.List;

/** Counts tokens the way the serving model does, so context budgets are exact rather than guessed. */
public interface TokenCounter {

  /** Tokens per message for the chat template's role markers. */
  int MESSAGE_OVERHEAD = 4;

  int count(String text);

  default int count(ChatMessage message) {
    int calls = 0;
    if (message.toolCalls() != null) { // name and arguments, plus the markers around each call
      for (var call : message.toolCalls()) {
        calls += count(call.name()) + count(call.arguments()) + MESSAGE_OVERHEAD;
      }
    }
    return count(message.content()) + calls + MESSAGE_OVERHEAD;
  }

  default int count(List<ChatMessage> messages) {
    int total = 0;
    for (ChatMessage m : messages) {
      total += count(m);
    }
    return total;
  }
}
