package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;

import java.util.List;

/** Counts tokens the way the serving model does, so context budgets are exact rather than guessed. */
public interface TokenCounter {

  /** Tokens per message for the chat template's role markers. */
  int MESSAGE_OVERHEAD = 4;

  int count(String text);

  default int count(ChatMessage message) {
    return count(message.content()) + MESSAGE_OVERHEAD;
  }

  default int count(List<ChatMessage> messages) {
    int total = 0;
    for (ChatMessage m : messages) {
      total += count(m);
    }
    return total;
  }
}
