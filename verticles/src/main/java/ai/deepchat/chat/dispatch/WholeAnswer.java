package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.engine.EngineMessages.Usage;

/**
 * A listener for a generation read whole rather than streamed on (a translation, a shadow answer): the
 * content deltas are gathered, and the end reports the text with its finish reason.
 */
public abstract class WholeAnswer implements GenerationListener {

  private final StringBuilder text = new StringBuilder();

  /** The generation ended: everything it said, and why it stopped ("stop", "length"...). */
  protected abstract void onAnswer(String answer, String finishReason, Usage usage);

  @Override
  public void onDelta(String content, String reasoning) {
    if (content != null) {
      text.append(content);
    }
  }

  @Override
  public void onDone(String finishReason, Usage usage) {
    onAnswer(text.toString(), finishReason, usage);
  }
}
