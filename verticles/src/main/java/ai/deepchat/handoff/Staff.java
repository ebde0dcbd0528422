package ai.deepchat.handoff;

import java.util.UUID;

/**
 * The tenant staff member doing an inbox action, as the console verified the session: {@code actor} for
 * the audit row, {@code supervisor} for admins and owners (they may transfer or resolve any conversation),
 * {@code ip} the client address (audit).
 */
public record Staff(UUID tenantId, UUID userId, String actor, boolean supervisor, String ip) {
}
