package ai.deepchat.platform.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The default database: real PostgreSQL binaries (from the zonky Maven artifacts) running as a child
 * process with its data under the platform's data directory, so a restart keeps every row.
 */
public final class EmbeddedDatabase implements AutoCloseable {

  private final Path dataDir;
  private final int port;
  private final boolean stopAtJvmExit;
  private EmbeddedPostgres postgres;

  private EmbeddedDatabase(Path dataDir, EmbeddedPostgres postgres, boolean stopAtJvmExit) {
    this.dataDir = dataDir;
    this.postgres = postgres;
    this.port = postgres.getPort();
    this.stopAtJvmExit = stopAtJvmExit;
  }

  /**
   * Starts (initialising on first use) the server whose data lives in {@code dataDir}; it stops by
   * itself when the JVM exits, if not closed before.
   */
  public static EmbeddedDatabase start(Path dataDir, int port) {
    return new EmbeddedDatabase(dataDir, launch(dataDir, port, true), true);
  }

  /**
   * Starts the server for an owner that closes it in its own shutdown hook, after work that still
   * needs it: a node draining on SIGTERM stores the answers it finishes. A hook of the server's own
   * would stop PostgreSQL at once, beside the drain (JVM shutdown hooks run concurrently).
   */
  public static EmbeddedDatabase startOwned(Path dataDir, int port) {
    return new EmbeddedDatabase(dataDir, launch(dataDir, port, false), false);
  }

  private static EmbeddedPostgres launch(Path dataDir, int port, boolean stopAtJvmExit) {
    try {
      Files.createDirectories(dataDir);
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setServerConfig("max_connections", "200")
          .setServerConfig("timezone", "UTC")
          .setRegisterShutdownHook(stopAtJvmExit);
      if (port > 0) {
        builder.setPort(port);
      }
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  /** The superuser endpoint, used for migrations and administration only. */
  public DatabaseEndpoint ownerEndpoint() {
    return new DatabaseEndpoint("localhost", port, "postgres", "postgres", "postgres");
  }

  public int port() {
    return port;
  }

  /**
   * Stops the server, keeping its data (a clean shutdown: connected clients are disconnected). Used
   * by maintenance and by the outage tests; {@link #restart} brings it back on the same port.
   */
  public synchronized void stop() {
    if (postgres == null) {
      return;
    }
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      postgres = null;
    }
  }

  /** Starts a stopped server again on the same port and data directory. */
  public synchronized void restart() {
    if (postgres == null) {
      postgres = launch(dataDir, port, stopAtJvmExit);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
