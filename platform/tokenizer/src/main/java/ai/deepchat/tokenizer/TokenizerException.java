package ai.deepchat.tokenizer;

/**
 * A tokenizer or chat template could not be loaded or used. The message names the file or template
 * and what is wrong with it, so a bad model folder is diagnosable from the log line alone.
 */
public class TokenizerException extends RuntimeException {

  public TokenizerException(String message) {
    super(message);
  }

  public TokenizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
