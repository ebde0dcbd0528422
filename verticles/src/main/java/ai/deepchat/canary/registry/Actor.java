package ai.deepchat.canary.registry;

/**
 * Who made a change, as the audit log names it ("apikey:&lt;id&gt;", "user:&lt;id&gt;",
 * "system:canary-guard"), and from where (may be null).
 */
public record Actor(String name, String ip) {

  public static final Actor GUARD = new Actor("system:canary-guard", null);
}
