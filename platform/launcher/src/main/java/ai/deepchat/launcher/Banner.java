package ai.deepchat.launcher;

import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.config.Role;

import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a started node prints last, on standard output: the URLs to open and, on the first start of the
 * embedded default, the demo tenant's one-time credentials (the database keeps only hashes), so that
 * they are the last thing on the screen rather than lost above the start-up log.
 */
final class Banner {

  private Banner() {
  }

  static String text(PlatformConfig config, String nodeId, int httpPort, int managementPort,
                     Optional<DemoSeed.Created> demo) {
    StringBuilder b = new StringBuilder();
    String roles = config.roles().stream().map(Role::key).collect(Collectors.joining(","));
    b.append("DeepChat is running (roles: ").append(roles).append(", node ").append(nodeId).append(")\n");
    if (httpPort > 0) {
      String base = "http://localhost:" + httpPort;
      b.append("  Home:       ").append(base).append("/  (what this node is, the demo widget live)\n");
      b.append("  Console:    ").append(base).append("/console\n");
      b.append("  API:        ").append(base).append("/v1/chat/completions  (OpenAI format; docs/api.md)\n");
      b.append("  Widget:     <script src=\"").append(base).append("/widget.js\" data-key=\"pk_...\" async></script>\n");
      b.append("  Health:     ").append(base).append("/health/ready\n");
      b.append("  Metrics:    http://localhost:").append(managementPort).append("/metrics  (MANAGEMENT_PORT)\n");
    }
    demo.ifPresent(created -> {
      b.append('\n');
      b.append("  Demo tenant created (workspace '").append(config.seed().tenantSlug()).append("'):\n");
      b.append("    console login:  ").append(config.seed().adminEmail()).append(" / ")
          .append(created.generatedPassword().orElse("(ADMIN_PASSWORD)")).append('\n');
      b.append("    API key:        ").append(created.apiKey()).append('\n');
      b.append("    widget key:     ").append(created.widgetKey()).append('\n');
      b.append("  These are shown once. A lost password: ./dev reset-password ").append(config.seed().tenantSlug())
          .append(' ').append(config.seed().adminEmail()).append(" (docs/operations.md)\n");
    });
    return b.toString();
  }
}
