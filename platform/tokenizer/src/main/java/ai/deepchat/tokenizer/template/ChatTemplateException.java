package ai.deepchat.tokenizer.template;

import ai.deepchat.tokenizer.TokenizerException;

/**
 * A chat template failed: syntax error, an unsupported construct, or the template itself called
 * {@code raise_exception} to reject the conversation ({@link #raisedByTemplate()}; the request is at
 * fault, not the model, so callers answer it as a bad request).
 */
public final class ChatTemplateException extends TokenizerException {

  private final boolean raisedByTemplate;

  ChatTemplateException(String message, boolean raisedByTemplate, Throwable cause) {
    super(message, cause);
    this.raisedByTemplate = raisedByTemplate;
  }

  public boolean raisedByTemplate() {
    return raisedByTemplate;
  }
}
