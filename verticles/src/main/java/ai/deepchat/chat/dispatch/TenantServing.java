package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.config.PlatformConfig;

import java.util.UUID;

/**
 * What {@link TenantModelDispatcher} reads for an unnamed request: the tenant's serving stable version (null:
 * none) and the active canary/A-B candidate of it with its share (null: none), as the node keeps them between
 * turns ({@code Database.modelRouting()}). {@code madeWith}: the chat settings the choices were built with, so a
 * dispatcher configured otherwise (tests) never takes another's.
 */
record TenantServing(ModelChoice stable, ModelChoice candidate, double share, PlatformConfig.Chat madeWith) {

  boolean madeWith(PlatformConfig.Chat chat) {
    return madeWith == chat || madeWith != null && madeWith.equals(chat);
  }

  /** The candidate for the share of conversations it covers, else the stable version; null when no stable. */
  ModelChoice choose(UUID conversationId) {
    if (stable == null || candidate == null || conversationId == null) {
      return stable;
    }
    return TenantModelDispatcher.bucket(conversationId) < share ? candidate : stable;
  }
}
