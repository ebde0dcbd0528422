package ai.deepchat.policy.plugin;

/**
 * The result of running a tenant's plugins before routing: the message to go on with, and a direct
 * answer with the plugin that gave it (both null when none answered).
 */
public record PluginOutcome(String message, String answer, String answeredBy) {

  public boolean answered() {
    return answer != null;
  }
}
