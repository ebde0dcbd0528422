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
  private EmbeddedPostgres postgres;

  private EmbeddedDatabase(Path dataDir, EmbeddedPostgres postgres) {
    this.dataDir = dataDir;
    this.postgres = postgres;
    this.port = postgres.getPort();
  }

  /** Starts (initialising on first use) the server whose data lives in {@code dataDir}. */
  public static EmbeddedDatabase start(Path dataDir, int port) {
    return new EmbeddedDatabase(dataDir, launch(dataDir, port));
  }

  private static EmbeddedPostgres launch(Path dataDir, int port) {
    try {
      Files.createDirectories(dataDir);
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setServerConfig("max_connections", "200")
          .setServerConfig("timezone", "UTC");
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
      postgres = launch(dataDir, port);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
