package ai.deepchat.platform.db;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.PlatformConfig;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import java.util.function.IntFunction;

/**
 * Brings the database up before any verticle starts: the embedded server (or the configured one),
 * migrations as the owning role, the application role's login, and the application pool. Blocking:
 * it runs on the launcher's main thread, never on an event loop.
 */
public final class DatabaseBootstrap implements AutoCloseable {

  public static final String APP_ROLE = "deepchat_app";
  /** Advisory lock key held while giving {@link #APP_ROLE} its login ("dcapplgn" in ASCII). */
  private static final long APP_LOGIN_LOCK = 0x6463_6170_706c_676eL;
  static final String EMBEDDED_DB = "deepchat";
  private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private final EmbeddedDatabase embedded;
  private final Database database;
  private final int migrationsApplied;

  private DatabaseBootstrap(EmbeddedDatabase embedded, Database database, int migrationsApplied) {
    this.embedded = embedded;
    this.database = database;
    this.migrationsApplied = migrationsApplied;
  }

  /**
   * With the embedded database, {@code holdAtJvmExit} is how long its server waits at JVM exit for
   * {@link #close} (see {@link EmbeddedDatabase#start(Path, int, Duration)}); zero stops it at once.
   */
  public static DatabaseBootstrap start(Vertx vertx, PlatformConfig config, Duration holdAtJvmExit) {
    PlatformConfig.Database db = config.database();
    EmbeddedDatabase embedded = null;
    DatabaseEndpoint owner;
    if (db.embedded()) {
      embedded = EmbeddedDatabase.start(config.dataDir().resolve("postgres"), db.embeddedPort(), holdAtJvmExit);
      owner = createDatabaseIfMissing(embedded.ownerEndpoint(), EMBEDDED_DB);
    } else {
      owner = DatabaseEndpoint.fromUrl(db.url().get());
    }
    try {
      checkReachable(owner, db.embedded() ? "embedded PostgreSQL" : "DATABASE_URL");
      int applied = Migrations.apply(owner);
      String appPassword = appPassword(owner, db.appPassword(), config.dataDir());
      Database database = connectApp(vertx, owner.as(APP_ROLE, appPassword), db.poolSize(), db.poolPerEventLoop());
      return new DatabaseBootstrap(embedded, database, applied);
    } catch (RuntimeException e) {
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  /** The application pool, as {@link #APP_ROLE}, one for the node (the default); usable from any verticle. */
  public static Database connectApp(Vertx vertx, DatabaseEndpoint app, int poolSize) {
    return connectApp(vertx, app, poolSize, false);
  }

  /**
   * The application's {@code poolSize} connections, as {@link #APP_ROLE}: shared out over one pool per event
   * loop ({@code perEventLoop}, DB_POOL_PER_EVENT_LOOP), or one pool for the node.
   */
  public static Database connectApp(Vertx vertx, DatabaseEndpoint app, int poolSize, boolean perEventLoop) {
    PgConnectOptions connect = new PgConnectOptions()
        .setHost(app.host()).setPort(app.port()).setDatabase(app.database())
        .setUser(app.user()).setPassword(app.password())
        .setCachePreparedStatements(true);
    IntFunction<Pool> poolOfSize = size -> PgBuilder.pool().with(new PoolOptions().setMaxSize(size))
        .connectingTo(connect).using(vertx).build();
    return new Database(perEventLoop ? LoopPools.perEventLoop(vertx, poolSize, poolOfSize)
        : LoopPools.single(poolOfSize.apply(poolSize)), connect);
  }

  /**
   * Gives the application role a login. With DATABASE_APP_PASSWORD set, the operator manages the role
   * and nothing is changed; otherwise a generated password is kept in the data directory.
   */
  static String appPassword(DatabaseEndpoint owner, Optional<String> configured, Path dataDir) {
    if (configured.isPresent()) {
      return configured.get();
    }
    String password = readOrCreateSecret(dataDir.resolve("secrets").resolve("db-app-password"));
    try (Connection c = jdbc(owner); Statement s = c.createStatement()) {
      // nodes starting together would race on the role's catalog row ("tuple concurrently updated")
      c.setAutoCommit(false);
      s.execute("SELECT pg_advisory_xact_lock(" + APP_LOGIN_LOCK + ")");
      s.execute("ALTER ROLE " + APP_ROLE + " WITH LOGIN PASSWORD '" + password + "'");
      c.commit();
    } catch (SQLException e) {
      throw new ConfigException("DATABASE_URL", "role '" + owner.user() + "' cannot give " + APP_ROLE
          + " a login (" + e.getMessage() + "); create the login yourself and set DATABASE_APP_PASSWORD");
    }
    return password;
  }

  /**
   * A 32-hex-digit secret created once, readable by this OS user only (file 0600 from its creation, in a
   * 0700 directory); only [0-9a-f], safe to inline. Published with a hard link, which fails rather than
   * replaces: processes creating it together all end up with the same secret.
   */
  public static String readOrCreateSecret(Path file) {
    return readOrCreateSecret(file, 16);
  }

  /** As {@link #readOrCreateSecret(Path)}, with {@code bytes} random bytes (2 hex digits each). */
  public static String readOrCreateSecret(Path file, int bytes) {
    try {
      if (Files.exists(file)) {
        return Files.readString(file).trim();
      }
      Path dir = Files.createDirectories(file.getParent());
      if (POSIX) {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------")); // also one made before
      }
      byte[] random = new byte[bytes];
      new SecureRandom().nextBytes(random);
      String secret = HexFormat.of().formatHex(random);
      // a temporary file is created owner-only (0600 on POSIX): the secret is never readable by others
      Path draft = Files.createTempFile(dir, file.getFileName().toString(), ".new");
      try {
        Files.writeString(draft, secret);
        Files.createLink(file, draft);
        return secret;
      } catch (FileAlreadyExistsException createdMeanwhile) {
        return Files.readString(file).trim();
      } finally {
        Files.deleteIfExists(draft);
      }
    } catch (IOException e) {
      throw new ConfigException("DATA_DIR", "cannot keep secret " + file + " (" + e.getMessage() + ")");
    }
  }

  static DatabaseEndpoint createDatabaseIfMissing(DatabaseEndpoint server, String name) {
    try (Connection c = jdbc(server); Statement s = c.createStatement()) {
      var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'");
      if (!rs.next()) {
        s.execute("CREATE DATABASE " + name);
      }
    } catch (SQLException e) {
      throw new UncheckedIOException(new IOException("cannot create database " + name + ": " + e.getMessage(), e));
    }
    return new DatabaseEndpoint(server.host(), server.port(), name, server.user(), server.password());
  }

  private static void checkReachable(DatabaseEndpoint owner, String key) {
    try (Connection ignored = jdbc(owner)) {
      // reachable
    } catch (SQLException e) {
      throw new ConfigException(key, "cannot connect to " + owner.host() + ":" + owner.port() + "/"
          + owner.database() + " as " + owner.user() + " (" + e.getMessage() + ")");
    }
  }

  static Connection jdbc(DatabaseEndpoint endpoint) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", endpoint.user());
    props.setProperty("password", endpoint.password());
    props.setProperty("connectTimeout", "5");
    props.setProperty("loginTimeout", "5");
    return DriverManager.getConnection(endpoint.jdbcUrl(), props);
  }

  public Database database() {
    return database;
  }

  /** The embedded server this node runs, if it runs one. */
  public Optional<EmbeddedDatabase> embedded() {
    return Optional.ofNullable(embedded);
  }

  public int migrationsApplied() {
    return migrationsApplied;
  }

  /**
   * Stops the embedded server, if any. The pool belongs to Vert.x and closes with it, so close Vert.x
   * first: verticles finish their queries before the server goes away.
   */
  @Override
  public void close() {
    if (embedded != null) {
      embedded.close();
    }
  }
}
