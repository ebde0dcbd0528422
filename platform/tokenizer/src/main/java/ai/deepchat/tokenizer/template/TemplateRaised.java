package ai.deepchat.tokenizer.template;

/**
 * Thrown by the template's {@code raise_exception(msg)}, HF's way for a template to reject a
 * conversation (e.g. roles out of order). Jinjava records it as a render error; {@link ChatTemplate}
 * finds it there and reports the template's own message.
 */
final class TemplateRaised extends RuntimeException {

  TemplateRaised(String message) {
    super(message);
  }

  /** Bound as the template function {@code raise_exception}. */
  public static String raise(Object message) {
    throw new TemplateRaised(String.valueOf(message));
  }
}
