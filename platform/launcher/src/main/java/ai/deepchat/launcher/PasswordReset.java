package ai.deepchat.launcher;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.DatabaseBootstrap;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;

/**
 * {@code deepchat reset-password <workspace> <email> [--flags]}: gives a console account a new generated
 * password, printed once, ends the account's sessions and writes an audit row, as the console's own
 * reset does. It opens the node's database with the node's configuration; on the embedded default the
 * node must be stopped first (its PostgreSQL holds DATA_DIR/postgres).
 */
final class PasswordReset {

  static final String COMMAND = "reset-password";
  static final String ACTOR = "operator:reset-password";

  /** An account the command could not find: exit code 1 with this message. */
  static final class NoSuchAccount extends RuntimeException {
    NoSuchAccount(String message) {
      super(message);
    }
  }

  private PasswordReset() {
  }

  /** Runs the command line; returns the exit code (0 done, 1 no such account, 2 bad usage or configuration). */
  static int main(Map<String, String> env, String[] args) {
    if (args.length < 3 || args[1].startsWith("--") || args[2].startsWith("--")) {
      System.err.println("usage: deepchat reset-password <workspace> <email> [--flags]   (./dev reset-password ...)");
      return 2;
    }
    try {
      PlatformConfig config = ConfigLoader.load(env, Arrays.copyOfRange(args, 3, args.length));
      String password = run(config, args[1], args[2]);
      System.out.println("New password of " + args[2] + " in workspace '" + args[1] + "': " + password);
      System.out.println("Shown once; the account's open sessions have ended. Change it under Users in the console.");
      return 0;
    } catch (ConfigException e) {
      System.err.println("deepchat: configuration error: " + e.getMessage());
      return 2;
    } catch (NoSuchAccount e) {
      System.err.println("deepchat: reset-password: " + e.getMessage());
      return 1;
    }
  }

  /** Sets a new generated password of {@code email} in workspace {@code slug} and returns it. */
  static String run(PlatformConfig config, String slug, String email) {
    Vertx vertx = Vertx.vertx();
    DatabaseBootstrap bootstrap = null;
    try {
      bootstrap = DatabaseBootstrap.start(vertx, config, Duration.ZERO);
      Database database = bootstrap.database();
      String password = DemoSeed.randomPassword();
      String hash = PasswordHasher.hash(password); // this command's own thread, no event loop to hold
      UUID tenantId = Node.await(database.global(c -> c.preparedQuery("SELECT id FROM tenants WHERE slug = $1")
          .execute(Tuple.of(slug)).map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID("id"))));
      if (tenantId == null) {
        throw new NoSuchAccount("no workspace '" + slug + "'");
      }
      AuditLog audit = new AuditLog(database);
      Node.await(database.inTenant(tenantId, c -> c.preparedQuery("UPDATE users SET password_hash = $2, "
              + "sessions_valid_after = now() WHERE lower(email) = lower($1) RETURNING id").execute(Tuple.of(email, hash))
          .compose(rows -> rows.size() == 0
              ? Future.failedFuture(new NoSuchAccount("no account " + email + " in workspace '" + slug + "'"))
              : audit.append(c, new AuditEntry(tenantId.toString(), ACTOR, "user.password_reset",
                  "user:" + rows.iterator().next().getUUID("id"), "", Map.of("email", email))))));
      return password;
    } finally {
      if (bootstrap != null) {
        bootstrap.close();
      }
      Node.await(vertx.close());
    }
  }
}
