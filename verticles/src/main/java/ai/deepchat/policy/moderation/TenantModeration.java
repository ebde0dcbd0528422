package ai.deepchat.policy.moderation;

import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict;
import ai.deepchat.platform.policy.PolicyMessages.ModerationVerdict.Action;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One tenant's moderation: its word list and what to do on a match (tenant_settings.moderation_action:
 * block with tenant_settings.blocked_reply, or mask). Plain Java, no I/O.
 */
public record TenantModeration(WordMatcher matcher, boolean block, String blockedReply) {

  public static final String DEFAULT_BLOCKED_REPLY = "Sorry, I cannot help with that request.";

  /** Checks a user message before anything else sees it. */
  public ModerationVerdict checkInput(String text) {
    List<WordMatcher.Match> matches = matcher.find(text);
    if (matches.isEmpty()) {
      return new ModerationVerdict(Action.ALLOW, text, List.of());
    }
    Set<String> words = new LinkedHashSet<>();
    matches.forEach(m -> words.add(m.word()));
    return block
        ? new ModerationVerdict(Action.BLOCK, blockedReply, List.copyOf(words))
        : new ModerationVerdict(Action.MASK, WordMatcher.mask(text, matches), List.copyOf(words));
  }

  /** Checks text added to an answer in one piece (a plugin's footer or rewrite) by the same rules. */
  public ModerationVerdict checkOutput(String text) {
    return checkInput(text);
  }

  /** A fresh moderator for one streamed answer. */
  public StreamingModerator outputModerator() {
    return new StreamingModerator(matcher, block);
  }
}
