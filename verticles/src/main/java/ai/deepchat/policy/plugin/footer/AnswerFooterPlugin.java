package ai.deepchat.policy.plugin.footer;

import ai.deepchat.policy.plugin.ChatPlugin;
import ai.deepchat.policy.plugin.PluginContext;
import ai.deepchat.policy.plugin.PostResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.regex.Pattern;

/**
 * Appends the tenant's footer ("Need more help? Call 400-123-4567", a link in Markdown) to every answer,
 * after a blank line. Config: {@code {"footer": "..."}}: plain text or Markdown, at most
 * {@value #MAX_CHARS} characters, no HTML and no control characters but line breaks and tabs. An answer
 * that already ends with the footer (the model copying an earlier turn) gets no second one.
 */
public final class AnswerFooterPlugin implements ChatPlugin {

  public static final String NAME = "answer-footer";
  static final int MAX_CHARS = 500;
  private static final Pattern HTML_TAG = Pattern.compile("<\\s*[/!?]?\\s*[A-Za-z]");
  private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\n\\t]]");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void validateConfig(JsonObject config) {
    footer(config);
  }

  @Override
  public Future<PostResult> postProcess(PluginContext ctx, String userMessage, String answer) {
    String footer = footer(ctx.config());
    if (answer.stripTrailing().endsWith(footer)) {
      return Future.succeededFuture(PostResult.keep());
    }
    return Future.succeededFuture(PostResult.append((answer.isBlank() ? "" : "\n\n") + footer));
  }

  /** The validated footer, trimmed; a bad config fails the hook (the answer then stays as it is). */
  static String footer(JsonObject config) {
    Object v = config.getValue("footer");
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("footer is required: a non-empty string");
    }
    String footer = s.strip();
    if (footer.codePointCount(0, footer.length()) > MAX_CHARS) {
      throw new IllegalArgumentException("footer must be at most " + MAX_CHARS + " characters");
    }
    if (CONTROL.matcher(footer).find()) {
      throw new IllegalArgumentException("footer must not contain control characters (line breaks and tabs are fine)");
    }
    if (HTML_TAG.matcher(footer).find()) {
      throw new IllegalArgumentException("footer must be plain text or Markdown, without HTML tags");
    }
    return footer;
  }
}
