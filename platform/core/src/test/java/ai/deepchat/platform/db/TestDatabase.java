package ai.deepchat.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Real PostgreSQL for tests: one embedded server per test JVM, and a freshly migrated database for
 * each caller, reached through the application role exactly as in production.
 */
public final class TestDatabase {

  private static EmbeddedDatabase server;
  private static Path dataDir;
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final DatabaseEndpoint owner;
  private final Database database;

  private TestDatabase(DatabaseEndpoint owner, Database database) {
    this.owner = owner;
    this.database = database;
  }

  /** A new, migrated database; the pool belongs to {@code vertx} and closes with it. */
  public static synchronized TestDatabase fresh(Vertx vertx) {
    if (server == null) {
      try {
        dataDir = Files.createTempDirectory("deepchat-test-pg");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      server = EmbeddedDatabase.start(dataDir.resolve("postgres"), 0);
      // the server's files (~850 MB per test JVM) go with it: a full run starts dozens of test JVMs
      Path dir = dataDir;
      EmbeddedDatabase started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        started.close();
        deleteTree(dir);
      }));
    }
    DatabaseEndpoint owner = DatabaseBootstrap.createDatabaseIfMissing(server.ownerEndpoint(),
        "test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet());
    Migrations.apply(owner);
    String password = DatabaseBootstrap.appPassword(owner, java.util.Optional.empty(), dataDir);
    Database db = DatabaseBootstrap.connectApp(vertx, owner.as(DatabaseBootstrap.APP_ROLE, password), 8);
    return new TestDatabase(owner, db);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: a file still held open stays behind in the temporary directory
    }
  }

  /** Another application pool on this database, of {@code size} connections. */
  public Database pool(Vertx vertx, int size) {
    return pool(vertx, size, false);
  }

  /** As {@link #pool(Vertx, int)}, the connections shared out over one pool per event loop if {@code perEventLoop}. */
  public Database pool(Vertx vertx, int size, boolean perEventLoop) {
    String password = DatabaseBootstrap.appPassword(owner, java.util.Optional.empty(), dataDir);
    return DatabaseBootstrap.connectApp(vertx, owner.as(DatabaseBootstrap.APP_ROLE, password), size, perEventLoop);
  }

  /** An application pool reaching this database through {@code host:port} (a proxy in front of it). */
  public Database poolVia(Vertx vertx, String host, int port, int size) {
    String password = DatabaseBootstrap.appPassword(owner, java.util.Optional.empty(), dataDir);
    return DatabaseBootstrap.connectApp(vertx, new DatabaseEndpoint(host, port, owner.database(),
        DatabaseBootstrap.APP_ROLE, password), size);
  }

  /** The application's view: row-level security applies. */
  public Database database() {
    return database;
  }

  /** A new tenant named by its slug; its id. */
  public Future<UUID> tenant(String slug) {
    return database.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID(0)));
  }

  /** The owning role, for assertions that must see every tenant's rows. */
  public DatabaseEndpoint owner() {
    return owner;
  }

  public java.sql.Connection ownerJdbc() throws java.sql.SQLException {
    return DatabaseBootstrap.jdbc(owner);
  }
}
