package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.ChatMessage;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;

import java.util.List;
import java.util.UUID;

/** Counts tokens the way the serving model does, so context budgets are exact rather than guessed. */
public interface TokenCounter {

  /** Tokens per message for the chat template's role markers. */
  int MESSAGE_OVERHEAD = 4;

  /** The fixed text around tool definitions in a prompt (DeepSeek's "# Tools" section: about 110). */
  int TOOLS_OVERHEAD = 128;

  int count(String text);

  /**
   * The counter for {@code tenant}'s turns: the same counts, which a counter that remembers them ({@link
   * RecentCounts}) keeps per tenant. This one: itself.
   */
  default TokenCounter forTenant(UUID tenant) {
    return this;
  }

  /**
   * The counts this counter has without encoding anything (a counter that remembers them), cheap enough for an
   * event loop: a text it does not know throws {@link NotCounted}. Null (this one): none.
   */
  default TokenCounter remembered() {
    return null;
  }

  /** A text a {@link #remembered()} counter does not know: count it with the counter itself, on a worker. */
  final class NotCounted extends RuntimeException {
    public static final NotCounted INSTANCE = new NotCounted();

    private NotCounted() {
      super("not counted yet", null, false, false); // thrown on a hot path: no stack trace
    }
  }

  default int count(ChatMessage message) {
    int calls = 0;
    if (message.toolCalls() != null) { // name and arguments, plus the markers around each call
      for (var call : message.toolCalls()) {
        calls += count(call.name()) + count(call.arguments()) + MESSAGE_OVERHEAD;
      }
    }
    return count(message.content()) + calls + MESSAGE_OVERHEAD;
  }

  /** What offering {@code tools} (null or empty: none) adds to the prompt. */
  default int countTools(List<ToolSpec> tools) {
    if (tools == null || tools.isEmpty()) {
      return 0;
    }
    int total = TOOLS_OVERHEAD;
    for (ToolSpec t : tools) {
      total += count(t.name()) + count(t.description()) + count(t.parametersJson()) + MESSAGE_OVERHEAD;
    }
    return total;
  }

  default int count(List<ChatMessage> messages) {
    int total = 0;
    for (ChatMessage m : messages) {
      total += count(m);
    }
    return total;
  }
}
