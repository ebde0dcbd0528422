package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;

/**
 * The one entry point: configuration, database, roles. Exit code 2 means bad configuration.
 * {@code reset-password <workspace> <email>} is the one admin command ({@link PasswordReset}).
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals(PasswordReset.COMMAND)) {
      System.exit(PasswordReset.main(System.getenv(), args));
      return;
    }
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
    // last, after the start-up log: the URLs and, on a first start, the one-time demo credentials
    System.out.print(Banner.text(config, node.platform().nodeId(), node.httpPort(), node.managementPort(),
        node.demoCreated()));
    System.out.flush();
  }
}
