package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.config.Role;

import java.util.stream.Collectors;

/** The one entry point: configuration, database, roles. Exit code 2 means bad configuration. */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    PlatformConfig config;
    Node node;
    try {
      config = ConfigLoader.load(System.getenv(), args);
      node = Node.start(config, true);
    } catch (ConfigException e) {
      System.err.println("deepchat: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Thread shutdown = new Thread(() -> {
      int status = 0;
      try {
        node.close();
      } catch (RuntimeException e) {
        e.printStackTrace();
        status = 1;
      }
      // A drained stop is a clean exit: 0 rather than the JVM's 143 for SIGTERM. Halting is the only
      // way to set the status from a shutdown hook; the node has closed everything it opened.
      System.out.flush();
      System.err.flush();
      Runtime.getRuntime().halt(status);
    }, "deepchat-shutdown");
    try {
      Runtime.getRuntime().addShutdownHook(shutdown);
    } catch (IllegalStateException exiting) {
      // SIGTERM came while the node was starting (its readiness may already say UP): no hook can be
      // added now, so stop here as the hook would; the embedded database's own exit hook waits for this
      shutdown.run();
    }
    String roles = config.roles().stream().map(Role::key).collect(Collectors.joining(","));
    System.out.println("DeepChat is running (roles: " + roles + ", node " + node.platform().nodeId() + ")");
    if (node.httpPort() > 0) {
      String base = "http://localhost:" + node.httpPort();
      System.out.println("  Console:    " + base + "/console");
      System.out.println("  API:        " + base + "/v1/chat/completions  (OpenAI format; docs/api.md)");
      System.out.println("  Widget:     <script src=\"" + base + "/widget.js\" data-key=\"pk_...\" async></script>");
      System.out.println("  Health:     " + base + "/health/ready");
      System.out.println("  Metrics:    http://localhost:" + node.managementPort() + "/metrics  (MANAGEMENT_PORT)");
    }
  }
}
