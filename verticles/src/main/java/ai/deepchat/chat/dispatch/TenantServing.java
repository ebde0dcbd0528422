package ai.deepchat.chat.dispatch;

import ai.deepchat.platform.config.PlatformConfig;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@link TenantModelDispatcher} reads of a tenant's model versions, as the node keeps it between turns
 * ({@code Database.modelRouting()}): the serving stable version (null: none), the active canary/A-B candidate of
 * it with its share (null: none), and the versions asked for by name so far (e.g. {@code deepseek-chat}, which
 * OpenAI-style clients send). The whole copy goes when a change is announced; a name read while it was held
 * is added to it, so a read that raced a change lands in a copy no longer served. {@code madeWith}: the chat
 * settings the choices were built with, so a dispatcher configured otherwise (tests) never takes another's.
 */
final class TenantServing {

  /** Names remembered per tenant; beyond, a name is read every time. */
  private static final int MAX_NAMES = 64;

  private final ModelChoice stable;
  private final ModelChoice candidate;
  private final double share;
  private final PlatformConfig.Chat madeWith;
  private final Map<String, Optional<ModelChoice>> named = new ConcurrentHashMap<>();

  TenantServing(ModelChoice stable, ModelChoice candidate, double share, PlatformConfig.Chat madeWith) {
    this.stable = stable;
    this.candidate = candidate;
    this.share = share;
    this.madeWith = madeWith;
  }

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

  /** The version of that name as read while this copy was held: empty when not known, null inside when none. */
  Optional<Optional<ModelChoice>> named(String name) {
    return Optional.ofNullable(named.get(name));
  }

  void rememberNamed(String name, ModelChoice version) {
    if (named.size() < MAX_NAMES) {
      named.put(name, Optional.ofNullable(version));
    }
  }
}
