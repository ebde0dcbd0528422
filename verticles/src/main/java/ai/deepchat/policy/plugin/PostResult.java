package ai.deepchat.policy.plugin;

import java.util.Objects;

/**
 * A plugin's post-processing outcome: keep the answer, append text after it (a footer, a link; sent
 * verbatim, so include your own separator such as a blank line), or replace it entirely. Only a
 * plugin that declares {@link ChatPlugin#rewritesAnswer()} may replace.
 */
public record PostResult(Kind kind, String text) {

  public enum Kind { KEEP, APPEND, REPLACE }

  public PostResult {
    Objects.requireNonNull(kind, "kind");
    if (kind != Kind.KEEP) {
      Objects.requireNonNull(text, "text");
    }
  }

  public static PostResult keep() {
    return new PostResult(Kind.KEEP, null);
  }

  public static PostResult append(String text) {
    return text.isEmpty() ? keep() : new PostResult(Kind.APPEND, text);
  }

  public static PostResult replace(String text) {
    return new PostResult(Kind.REPLACE, text);
  }

  /** The same change with other text (masked by moderation, say). */
  public PostResult withText(String newText) {
    return kind == Kind.KEEP ? this : new PostResult(kind, newText);
  }

  /** This change followed by {@code next} (which saw the answer after this one), as one change. */
  public PostResult andThen(PostResult next) {
    return switch (next.kind) {
      case KEEP -> this;
      case REPLACE -> next;
      case APPEND -> switch (kind) {
        case KEEP -> next;
        case APPEND -> append(text + next.text);
        case REPLACE -> replace(text + next.text);
      };
    };
  }

  /** The answer after this change. */
  public String applyTo(String answer) {
    return switch (kind) {
      case KEEP -> answer;
      case APPEND -> answer + text;
      case REPLACE -> text;
    };
  }
}
