package ai.deepchat.platform.policy;

import java.util.List;
import java.util.Map;

/**
 * Records of the policy features: the two published on the bus ({@link TenantPolicyChanged},
 * {@link VisitorsRevoked}), and the moderation verdict and audit entry every module passes in process
 * (each node moderates and appends to the audit log itself, in PostgreSQL). Tenant ids are strings
 * (UUID text), like the other contracts.
 */
public final class PolicyMessages {

  private PolicyMessages() {
  }

  /** The records that travel on the bus. */
  public static final List<Class<? extends Record>> TYPES = List.of(TenantPolicyChanged.class, VisitorsRevoked.class);

  /**
   * The outcome of a check. {@code action} is ALLOW (no word matched), MASK (matched words replaced
   * with '*' in {@code text}) or BLOCK ({@code text} is the tenant's polite reply, to be sent instead of
   * an answer). {@code matchedWords} are the tenant's list entries that matched, for logs and audit.
   */
  public record ModerationVerdict(Action action, String text, List<String> matchedWords) {
    public enum Action { ALLOW, MASK, BLOCK }

    public boolean blocked() {
      return action == Action.BLOCK;
    }
  }

  /**
   * Published when an admin changes a tenant's word list, moderation action or reply, rate limits or
   * plugin configs: every node drops its cached copies of that tenant's policy.
   */
  public record TenantPolicyChanged(String tenantId) {
  }

  /**
   * A tenant's visitor tokens stopped being valid: all of them ({@code visitorId} null: the widget key
   * was rotated) or one visitor's (erased). Gateways close the sockets those tokens opened.
   */
  public record VisitorsRevoked(String tenantId, String visitorId) {
  }

  /**
   * One audit event. {@code actor} names who did it ("user:&lt;id&gt;", "apikey:&lt;id&gt;", "system:retention"),
   * {@code action} what ("api_key.created", "visitor.deleted"), {@code target} on what; {@code ip} may be
   * null; {@code details} is stored as JSONB.
   */
  public record AuditEntry(String tenantId, String actor, String action, String target, String ip,
                           Map<String, Object> details) {
  }

  /** The stored row: its id and chain hash. */
  public record AuditReceipt(long id, String hash) {
  }
}
