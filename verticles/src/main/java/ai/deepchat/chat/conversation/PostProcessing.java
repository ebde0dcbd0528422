package ai.deepchat.chat.conversation;

import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.policy.moderation.TenantModeration;
import ai.deepchat.policy.plugin.PostHooks;
import ai.deepchat.policy.plugin.PostResult;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * The last step of a complete answer: the tenant's post hooks, then the word list over the text they
 * added or wrote, because visitors read it as they read model text (personal data is masked at storage
 * for both). Plugin text with a blocked word is dropped: the answer stays as it was. Never fails.
 */
final class PostProcessing {

  private static final Logger LOG = LoggerFactory.getLogger(PostProcessing.class);

  private PostProcessing() {
  }

  static Future<PostResult> run(PostHooks hooks, ModerationService moderation, UUID tenantId, String question,
                                String answer) {
    if (hooks.isEmpty()) {
      return Future.succeededFuture(PostResult.keep());
    }
    return hooks.run(question, answer)
        .compose(change -> change.kind() == PostResult.Kind.KEEP ? Future.succeededFuture(change)
            : moderation.forTenant(tenantId).map(m -> moderated(m, change, tenantId))
                .recover(err -> {
                  // as for model text: an unreadable word list does not hold the answer back
                  LOG.warn("tenant {}: moderation unavailable ({}); plugin text passed unchecked", tenantId, err.toString());
                  return Future.succeededFuture(change);
                }))
        .recover(err -> {
          LOG.warn("tenant {}: post-processing failed, answer kept: {}", tenantId, err.toString());
          return Future.succeededFuture(PostResult.keep());
        });
  }

  private static PostResult moderated(TenantModeration m, PostResult change, UUID tenantId) {
    var verdict = m.checkOutput(change.text());
    return switch (verdict.action()) {
      case ALLOW -> change;
      case MASK -> change.withText(verdict.text());
      case BLOCK -> {
        LOG.warn("tenant {}: plugin text held blocked words {}; answer kept unchanged", tenantId, verdict.matchedWords());
        yield PostResult.keep();
      }
    };
  }
}
